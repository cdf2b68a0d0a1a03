"""The generic faults (bench/generic_faults.py) on warehouses they were not written for: the
shop warehouse (members, visits, purchases through visits, a text-keyed item dimension) and
the telco warehouse (subscribers with country names, top-ups, usage sessions)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bench.generic_faults import (
    FAULTS,
    TEXT_TIME_FORMAT,
    GenericApplied,
    GoalShape,
    NotApplicable,
    apply_generic,
    discover,
)
from bench.telco_warehouse import build_telco_warehouse
from tests.shop_warehouse import build_shop_warehouse

SHOP = GoalShape("members", "member_key", "outcomes", None)
TELCO = GoalShape("subscribers", "sub_key", "defections", "nation IN ('France', 'Germany')")
Sums = dict[str, str]


def checksums(path: Path) -> Sums:
    """Per table: its columns with types and nullability, and an order-free hash of its rows."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [n for (n,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        out = {}
        for name in names:
            schema = con.execute(
                "SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable, ', '"
                " ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = ?",
                [name],
            ).fetchone()
            rows = con.execute(f'SELECT count(*), sum(hash(t)) FROM "{name}" AS t').fetchone()
            out[name] = f"{schema} | {rows}"
        return out


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("generic")
    return {
        "shop": build_shop_warehouse(directory / "shop.duckdb", members=300),
        "telco": build_telco_warehouse(directory / "telco.duckdb", subscribers=400),
    }


SHAPES = {"shop": SHOP, "telco": TELCO}
Applied = tuple[Path, GenericApplied]


@pytest.fixture
def apply(pristine: dict[str, Path], tmp_path: Path) -> Callable[..., Applied]:
    def run(site: str, name: str, seed: int = 0, label: str = "a") -> Applied:
        path = tmp_path / f"{site}-{name}-{seed}-{label}.duckdb"
        shutil.copy(pristine[site], path)
        return path, apply_generic(path, name, SHAPES[site], seed=seed)

    return run


def one(path: Path, sql: str, pristine: Path | None = None) -> Any:
    with duckdb.connect(str(path), read_only=True) as con:
        if pristine is not None:
            con.execute(f"ATTACH '{pristine}' AS p (READ_ONLY)")
        row = con.execute(sql).fetchone()
        return None if row is None else row[0]


def test_discover_finds_keys_by_value_sets(pristine: dict[str, Path]) -> None:
    with duckdb.connect(str(pristine["shop"]), read_only=True) as con:
        structure = discover(con, SHOP)
    found = {(k.table, k.column, k.parent, k.parent_column) for k in structure.keys}
    assert {
        ("visits", "member_key", "members", "member_key"),
        ("purchases", "visit_no", "visits", "visit_no"),
        ("purchases", "item_code", "items", "item_code"),
    } <= found
    # A one-to-one link (the labels) is not a reference: nothing repeats in it.
    assert not any(k.table == "outcomes" for k in structure.keys)
    assert structure.related() == ["purchases", "visits"]
    assert structure.time_column("visits").name == "started"  # type: ignore[union-attr]
    assert structure.cohort_column() is None
    with duckdb.connect(str(pristine["telco"]), read_only=True) as con:
        assert discover(con, TELCO).cohort_column() == "nation"


APPLICABLE = [
    (site, name)
    for site in SHAPES
    for name in FAULTS
    if not (site == "shop" and name.startswith("g_cohort"))
]


@pytest.mark.parametrize(("site", "name"), APPLICABLE)
def test_fault_is_deterministic_and_touches_only_its_targets(
    site: str, name: str, apply: Callable[..., Applied], pristine: dict[str, Path]
) -> None:
    path, applied = apply(site, name)
    again_path, again = apply(site, name, label="b")
    assert applied == again and checksums(path) == checksums(again_path)
    assert applied.rows_affected > 0 and applied.targets
    before, after = checksums(pristine[site]), checksums(path)
    touched = {target.split(".")[0] for target in applied.targets}
    assert {t for t in before.keys() | after.keys() if before.get(t) != after.get(t)} == touched


@pytest.mark.parametrize("name", ["g_cohort_relabel", "g_cohort_dropped"])
def test_not_applicable_leaves_the_file_unchanged(
    name: str, pristine: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / "shop.duckdb"
    shutil.copy(pristine["shop"], path)
    before = checksums(path)
    with pytest.raises(NotApplicable, match="no cohort"):
        apply_generic(path, name, SHOP, seed=0)
    assert checksums(path) == before


def test_failure_midway_rolls_back(pristine: dict[str, Path], tmp_path: Path) -> None:
    """g_release renames a measure after re-encoding a time column; when the rename cannot
    happen (a column named like its target already exists), neither change stays."""
    path = tmp_path / "shop.duckdb"
    shutil.copy(pristine["shop"], path)
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE purchases ADD COLUMN price_v2 DOUBLE")
    before = checksums(path)
    with pytest.raises(duckdb.Error):
        apply_generic(path, "g_release", SHOP, seed=0)
    assert checksums(path) == before


def test_key_format_is_the_parent_key_prefixed_and_padded(
    apply: Callable[..., Applied], pristine: dict[str, Path]
) -> None:
    path, applied = apply("shop", "g_key_format")
    assert applied.targets == ["visits.member_key"]
    wrong = one(
        path,
        "SELECT count(*) FROM visits AS f JOIN p.visits AS o USING (visit_no)"
        " WHERE f.member_key <> 'M-' || lpad(CAST(o.member_key AS VARCHAR), 7, '0')",
        pristine["shop"],
    )
    assert wrong == 0
    plain = "SELECT CAST(member_key AS VARCHAR) FROM members"
    assert one(path, f"SELECT count(*) FROM visits WHERE member_key IN ({plain})") == 0


def test_key_case_lowers_a_text_key(
    apply: Callable[..., Applied], pristine: dict[str, Path]
) -> None:
    path, applied = apply("telco", "g_key_case")
    table, column = applied.targets[0].split(".")
    assert (table, column) == ("usage_sessions", "handset_sku")
    assert one(path, "SELECT count(*) FROM usage_sessions WHERE handset_sku IN"
               " (SELECT handset_sku FROM handsets)") == 0  # fmt: skip
    assert one(path, "SELECT count(*) FROM usage_sessions WHERE upper(handset_sku) NOT IN"
               " (SELECT handset_sku FROM handsets)") == 0  # fmt: skip


@pytest.mark.parametrize("site", list(SHAPES))
def test_time_encodings_hold_the_same_instants(
    site: str, apply: Callable[..., Applied], pristine: dict[str, Path]
) -> None:
    epoch_path, epoch = apply(site, "g_epoch_time")
    text_path, text = apply(site, "g_text_time")
    assert epoch.targets == text.targets
    table, column = epoch.targets[0].split(".")
    key = {
        "visits": "visit_no", "purchases": "purchase_no",
        "usage_sessions": "session_key", "topups": "topup_key",
    }[table]  # fmt: skip
    compare = f"SELECT count(*) FROM {table} AS f JOIN p.{table} AS o USING ({key}) WHERE {{}}"
    epoch_wrong = compare.format(f"to_timestamp(f.{column})::TIMESTAMP <> o.{column}")
    assert one(epoch_path, epoch_wrong, pristine[site]) == 0
    parsed = f"strptime(f.{column}, '{TEXT_TIME_FORMAT}') <> date_trunc('minute', o.{column})"
    assert one(text_path, compare.format(parsed), pristine[site]) == 0


def test_cohort_faults_change_only_the_cohort_column(
    apply: Callable[..., Applied], pristine: dict[str, Path]
) -> None:
    path, applied = apply("telco", "g_cohort_relabel")
    assert applied.targets == ["subscribers.nation"]
    assert one(path, "SELECT count(*) FROM subscribers WHERE nation IN ('France', 'Germany')") == 0
    assert one(path, "SELECT count(*) FROM subscribers WHERE nation = 'GERMANY'") > 0
    dropped, _ = apply("telco", "g_cohort_dropped")
    assert one(dropped, "SELECT count(nation) FROM subscribers") == 0
    same = (
        "SELECT count(*) FROM (SELECT * EXCLUDE (nation) FROM subscribers EXCEPT ALL"
        " SELECT * EXCLUDE (nation) FROM p.subscribers)"
    )
    assert one(dropped, same, pristine["telco"]) == 0


@pytest.mark.parametrize("site", list(SHAPES))
def test_benign_changes_keep_every_old_value(
    site: str, apply: Callable[..., Applied], pristine: dict[str, Path]
) -> None:
    for name in [n for n, f in FAULTS.items() if f.benign]:
        path, applied = apply(site, name)
        for target in applied.targets:
            table = target.split(".")[0]
            if table == "maintenance_windows":
                assert one(path, f"SELECT count(*) FROM {table}") == applied.rows_affected
                continue
            with duckdb.connect(str(pristine[site]), read_only=True) as con:
                cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            listed = ", ".join(cols)
            lost = one(
                path,
                f"SELECT count(*) FROM (SELECT {listed} FROM p.{table} EXCEPT ALL"
                f" SELECT {listed} FROM {table})",
                pristine[site],
            )
            assert lost == 0, f"{name} changed old rows of {table}"


def test_bad_arguments(pristine: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown generic fault"):
        apply_generic(pristine["shop"], "g_nope", SHOP)
    with pytest.raises(ValueError, match="non-negative"):
        apply_generic(pristine["shop"], "g_key_format", SHOP, seed=-1)
    with pytest.raises(ValueError, match="no warehouse file"):
        apply_generic(tmp_path / "absent.duckdb", "g_key_format", SHOP)
