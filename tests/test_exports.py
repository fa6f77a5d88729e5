"""The exchange with the planning tool and BI: the import layout, its manifest, files that
are byte-identical from the same marts and rewritten only when they change, group amounts
at the period's average rate, and the marts as hive-partitioned Parquet datasets."""

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from orchestration.checks.schemas import PRODUCTS
from orchestration.checks.suites import validate
from orchestration.exports.fpa import ACTUALS, LISTS, MANIFEST, ActualsDoNotTie, tie
from orchestration.exports.publish import in_any_order, publish, publish_rows, stored_fingerprint
from orchestration.exports.reporting import (
    DIMENSIONS,
    PERIOD_MARTS,
    SCHEMA_FILE,
    period_file,
    reporting_key,
)
from orchestration.partitions import period_id
from orchestration.paths import Paths
from orchestration.resources import open_warehouse
from tests.conftest import HASHED_ALIKE, query
from tests.copies import copy_data_dir

PERIODS = 24


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprints(root: Path) -> dict[str, tuple[int, str]]:
    return {
        path.relative_to(root).as_posix(): (path.stat().st_mtime_ns, digest(path))
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_fpa_layout_has_a_list_per_dimension_and_files_per_module(paths: Paths, main_run) -> None:
    fpa = paths.exports / "fpa"
    lists = {path.stem: path for path in (fpa / "lists").glob("*.csv")}
    rows = {
        name: query(paths, "select count(*) from read_csv(?)", [str(path)])[0][0]
        for name, path in lists.items()
    }
    [(entities,)] = query(paths, "select count(*) from marts.dim_legal_entity")
    [(cost_centers,)] = query(paths, "select count(*) from marts.dim_cost_center")
    [(periods,)] = query(paths, "select count(*) from marts.dim_fiscal_period")
    [(accounts,)] = query(paths, "select count(*) from marts.dim_account")
    headers = {name: path.read_text().splitlines()[0] for name, path in lists.items()}
    assert sorted(lists) == sorted(module.name for module in LISTS)
    assert rows == {
        "entities": entities,
        "accounts": accounts,
        "cost_centers": cost_centers + 1,  # and the member NONE
        "periods": periods,
    }
    assert all(header.startswith("Code,Name,Parent") for header in headers.values())
    assert len(list((fpa / "actuals").glob("*.csv"))) == PERIODS
    assert len(list((fpa / "workforce").glob("*.csv"))) == PERIODS
    assert (fpa / "pipeline.csv").read_text().splitlines()[0] == (
        "Entity,Month,Product_Family,Currency,Open_Opportunities,Pipeline,Weighted_Pipeline,Commit"
    )


def test_manifest_lists_every_file_with_rows_control_totals_and_checksum(
    paths: Paths, main_run: dg.ExecuteInProcessResult
) -> None:
    fpa = paths.exports / "fpa"
    manifest = json.loads((fpa / MANIFEST).read_text())
    on_disk = sorted(
        p.relative_to(fpa).as_posix() for p in fpa.rglob("*") if p.is_file() and p.name != MANIFEST
    )
    entries = {entry["path"]: entry for entry in manifest["files"]}
    actuals = entries["actuals/2025-P03.csv"]
    [(rows, amount, amount_group)] = query(
        paths,
        'select count(*), sum("Amount"), sum("Amount_Group") from read_csv(?,'
        " types={'Amount': 'decimal(18,2)', 'Amount_Group': 'decimal(18,2)'})",
        [str(fpa / "actuals/2025-P03.csv")],
    )
    [(workforce_cost,)] = query(
        paths,
        "select sum(workforce_cost_functional) from marts.workforce_cost_drivers"
        " where period_id = '2025-P03'",
    )
    assert manifest["schema_version"] == 1
    assert manifest["run_id"] == main_run.run_id
    assert len(manifest["periods"]) == PERIODS
    assert [entry["path"] for entry in manifest["files"]] == on_disk  # every file, sorted
    assert all(entry["sha256"] == digest(fpa / entry["path"]) for entry in manifest["files"])
    assert (actuals["module"], actuals["period"], actuals["rows"]) == ("actuals", "2025-P03", rows)
    assert actuals["control_totals"] == {"Amount": str(amount), "Amount_Group": str(amount_group)}
    assert entries["workforce/2025-P03.csv"]["control_totals"]["Workforce_Cost"] == str(
        workforce_cost
    )
    assert entries["lists/entities.csv"]["period"] is None


def test_group_amounts_are_at_the_average_rate_and_tie_to_the_consolidated_statement(
    paths: Paths, main_run
) -> None:
    files = [str(p) for p in sorted((paths.exports / "fpa" / "actuals").glob("*.csv"))]
    by_period = dict(
        query(
            paths,
            "select regexp_extract(filename, '(\\d{4}-P\\d{2})', 1), sum(\"Amount_Group\")"
            " from read_csv(?, filename=true, types={'Amount_Group': 'decimal(18,2)'})"
            " group by all",
            [files],
        )
    )
    consolidated = dict(
        query(
            paths,
            "select period_id, -sum(amount_period_entities_group)"
            " from marts.consolidated_income_statement group by all",
        )
    )
    # every line is its amount at the period's average rate; an account's rounding cent
    # sits on one line of it, so lines off by more than a cent cannot be
    [(lines, off_by_a_cent, off_by_more)] = query(
        paths,
        """
        with exported as (
            select *, regexp_extract(filename, '(\\d{4}-P\\d{2})', 1) as period_id
            from read_csv(?, filename=true,
                types={'Amount': 'decimal(18,2)', 'Amount_Group': 'decimal(18,2)'})
        ),
        compared as (
            select abs("Amount_Group" - round("Amount" * rate.rate_to_group, 2)) as off
            from exported inner join intermediate.int_fx_period_rates as rate
                on rate.currency_code = exported."Currency"
                and rate.period_id = exported.period_id and rate.rate_type = 'average'
        )
        select count(*), count(*) filter (off > 0), count(*) filter (off > 0.05) from compared
        """,
        [files],
    )
    [(entity_accounts,)] = query(
        paths,
        "select count(*) from (select distinct entity_code, account_code, period_id"
        " from marts.trial_balance join marts.dim_account using (account_code)"
        " where statement = 'PL' and movement_functional <> 0)",
    )
    assert len(by_period) == PERIODS
    assert by_period == {period: consolidated[period] for period in by_period}
    assert lines > 0 and off_by_more == 0
    assert off_by_a_cent <= entity_accounts


def test_rerun_rewrites_only_changed_or_tampered_files_with_identical_bytes(
    paths: Paths, main_run, tmp_path: Path
) -> None:
    """Same marts, same bytes: one file tampered with and one deleted come back exactly as
    they were; every other file is left alone (mtime too); no copy or partial file stays."""
    from orchestration.graph import build

    copy = copy_data_dir(paths, tmp_path / "data")
    fpa = copy.exports / "fpa"
    (fpa / "actuals" / "2025-P03.csv").write_text("Entity,Amount\nUS01,1.00\n")
    (fpa / "workforce" / "2025-P04.csv").unlink()
    before = fingerprints(fpa)
    job = dg.define_asset_job("fpa_only", selection=dg.AssetSelection.assets(ACTUALS))
    defs = dg.Definitions.merge(build(copy), dg.Definitions(jobs=[job]))
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("fpa_only").execute_in_process(instance=instance)
    after = fingerprints(fpa)
    changed = sorted(name for name in after if after[name] != before.get(name))
    original = paths.exports / "fpa"
    manifest, first = (json.loads((root / MANIFEST).read_text()) for root in (fpa, original))
    assert result.success
    assert changed == ["actuals/2025-P03.csv", "manifest.json", "workforce/2025-P04.csv"]
    assert {name: sha for name, (_, sha) in after.items() if name != MANIFEST} == {
        name: sha for name, (_, sha) in fingerprints(original).items() if name != MANIFEST
    }
    assert not [name for name in after if Path(name).name.startswith(".")]
    assert manifest["run_id"] == result.run_id != first["run_id"]
    assert {k: v for k, v in manifest.items() if k not in ("run_id", "generated_at")} == {
        k: v for k, v in first.items() if k not in ("run_id", "generated_at")
    }


def test_actuals_that_do_not_tie_to_the_trial_balance_are_not_published(
    paths: Paths, main_run, tmp_path: Path
) -> None:
    copy = copy_data_dir(paths, tmp_path / "data")
    target = copy.exports / "fpa" / "actuals" / "2025-P03.csv"
    before = target.read_bytes()
    with open_warehouse(copy.warehouse, read_only=False) as con:
        con.execute(
            "update marts.trial_balance set movement_group = movement_group + 1"
            " where period_id = '2025-P03' and account_code = ("
            "  select min(account_code) from marts.trial_balance join marts.dim_account"
            "  using (account_code) where statement = 'PL' and period_id = '2025-P03')"
        )
        target.write_text("stale\n")  # what a successful publish would replace
        stale = target.read_bytes()
        from orchestration.exports.fpa import ACTUALS_MODULE

        with pytest.raises(ActualsDoNotTie, match="group currency"):
            publish(
                con,
                ACTUALS_MODULE.sql("2025-P03"),
                target,
                verify=lambda partial: tie(con, "2025-P03", partial),
            )
    assert target.read_bytes() == stale != before
    assert not list(target.parent.glob(".*"))  # the refused partial file is gone


@pytest.mark.parametrize("mart", PERIOD_MARTS)
def test_period_marts_are_hive_partitioned_datasets_with_a_schema(
    paths: Paths, main_run, mart: str
) -> None:
    dataset = paths.exports / "reporting" / mart
    schema = json.loads((dataset / SCHEMA_FILE).read_text())
    [(rows, mislabelled, periods)] = query(
        paths,
        "select count(*), count(*) filter (period <> period_id), count(distinct period)"
        " from read_parquet(?, hive_partitioning = true)",
        [str(dataset / "*" / "*.parquet")],
    )
    [(in_mart, mart_periods)] = query(
        paths, f"select count(*), count(distinct period_id) from marts.{mart}"
    )
    columns = query(
        paths,
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'marts' and table_name = ? order by ordinal_position",
        [mart],
    )
    assert rows == in_mart > 0
    assert mislabelled == 0
    assert periods == mart_periods
    assert all(p.name.startswith("period=") for p in dataset.iterdir() if p.is_dir())
    assert schema["partitioning"] == {"style": "hive", "columns": ["period"], "from": "period_id"}
    assert [(c["name"], c["type"]) for c in schema["columns"]] == columns


FACT = "fct_gl_journal_lines"


def export_fact(copy: Paths) -> tuple[dict[str, bool], dict[str, tuple[int, str]]]:
    """Materialize the GL fact's reporting dataset alone, every period (an unpartitioned
    run); returns whether each period's file was rewritten, by period id, and the files."""
    from orchestration.graph import build

    key = reporting_key(FACT)
    job = dg.define_asset_job("fact_only", selection=dg.AssetSelection.assets(key))
    defs = dg.Definitions.merge(build(copy), dg.Definitions(jobs=[job]))
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("fact_only").execute_in_process(instance=instance)
    assert result.success
    rewritten = {
        period_id(event.partition): event.materialization.metadata["rewritten"].value
        for event in result.get_asset_materialization_events()
        if event.asset_key == key and event.partition
    }
    return rewritten, fingerprints(copy.exports / "reporting" / FACT)


def rows_differing(paths: Paths, period: str, file: Path) -> int:
    """Rows in the fact's period or in the file, but not in both (as multisets)."""
    in_mart = f"select * from marts.{FACT} where period_id = '{period}'"
    in_file = "select * from read_parquet(?, hive_partitioning = false)"
    [(differing,)] = query(
        paths,
        f"select count(*) from (({in_mart} except all {in_file})"
        f" union all ({in_file} except all {in_mart}))",
        [str(file), str(file)],
    )
    return differing


def test_reporting_rerun_rewrites_only_period_files_tampered_with_or_whose_rows_changed(
    paths: Paths, main_run, tmp_path: Path
) -> None:
    """Files are compared by rows (the fingerprint in their footer), not bytes: over the same
    marts no file is rewritten, nor one whose rows were put in another order; a file cut
    short, a file of the period's very rows written without the fingerprint, and the period
    whose mart row changed are rewritten, each with the mart's rows, and no other file."""
    copy = copy_data_dir(paths, tmp_path / "data")
    periods = {"cut": "2025-P03", "unsigned": "2025-P04", "updated": "2025-P05"}
    files = {name: period_file(copy.exports / "reporting", FACT, p) for name, p in periods.items()}
    first = fingerprints(copy.exports / "reporting" / FACT)

    rerun, unchanged = export_fact(copy)

    reordered = period_file(copy.exports / "reporting", FACT, "2025-P06")
    with duckdb.connect() as con:
        footer = stored_fingerprint(con, reordered)
        keys = ", ".join(f"{key}: ?" for key in footer)
        con.execute(
            f"copy (from read_parquet(?) order by journal_line_key desc) to '{tmp_path}/r.parquet'"
            f" (format parquet, compression zstd, kv_metadata {{{keys}}})",
            [str(reordered), *footer.values()],
        )
    (tmp_path / "r.parquet").replace(reordered)
    files["cut"].write_bytes(files["cut"].read_bytes()[: files["cut"].stat().st_size // 2])
    with open_warehouse(copy.warehouse, read_only=False) as con:
        con.execute(
            f"copy (select * from marts.{FACT} where period_id = ?) to '{files['unsigned']}'"
            " (format parquet, compression zstd)",
            [periods["unsigned"]],
        )
        [(updated,)] = con.execute(
            f"update marts.{FACT} set amount_txn = amount_txn + 0.01 where journal_line_key ="
            f" (select min(journal_line_key) from marts.{FACT} where period_id = ?)",
            [periods["updated"]],
        ).fetchall()
        footers = [stored_fingerprint(con, files[name]) for name in ("cut", "unsigned")]
    before = fingerprints(copy.exports / "reporting" / FACT)
    rewritten, after = export_fact(copy)
    changed = sorted(name for name in after if after[name] != before[name])
    expected = sorted(f"period={period}/data.parquet" for period in periods.values())
    with duckdb.connect() as con:
        signed = [stored_fingerprint(con, file) for file in files.values()]

    assert len(rerun) == PERIODS and not any(rerun.values())
    assert unchanged == first  # same marts: every file left alone, mtime too
    assert updated == 1 and footers == [None, {}]  # unreadable; readable, no fingerprint
    assert changed == expected
    assert before["period=2025-P06/data.parquet"] != first["period=2025-P06/data.parquet"]
    assert sorted(p for p, again in rewritten.items() if again) == sorted(periods.values())
    assert sorted(after) == sorted(first)  # every period's file, no partial file left
    assert all(footer and footer["finsync_rows"] for footer in signed)
    assert {p: rows_differing(copy, p, files[n]) for n, p in periods.items()} == dict.fromkeys(
        periods.values(), 0
    )


@pytest.mark.parametrize("mart", DIMENSIONS)
def test_dimensions_are_single_file_datasets_with_a_schema(
    paths: Paths, main_run, mart: str
) -> None:
    dataset = paths.exports / "reporting" / mart
    schema = json.loads((dataset / SCHEMA_FILE).read_text())
    [(rows,)] = query(paths, "select count(*) from read_parquet(?)", [str(dataset / "*.parquet")])
    [(in_mart,)] = query(paths, f"select count(*) from marts.{mart}")
    assert rows == in_mart > 0
    assert schema["partitioning"] is None and schema["files"] == "data.parquet"


NEW_PRODUCTS = [
    "consolidated_income_statement",
    "consolidated_balance_sheet",
    "consolidation_eliminations",
    "intercompany_mismatches",
    "budget_vs_actual",
    "fct_plan",
]


def test_new_products_have_contracts_that_pass_on_the_run(main_run) -> None:
    evaluations = {
        c.asset_check_key.asset_key.path[-1]: c.passed
        for c in main_run.get_asset_check_evaluations()
        if c.asset_check_key.name == "contract"
    }
    assert {name: evaluations.get(name) for name in NEW_PRODUCTS} == dict.fromkeys(
        NEW_PRODUCTS, True
    )


def test_a_consolidated_balance_sheet_that_does_not_balance_fails_its_contract(
    paths: Paths, main_run
) -> None:
    contract = next(c for c in PRODUCTS if c.table == "consolidated_balance_sheet")
    columns = ", ".join(contract.columns)
    with open_warehouse(paths.warehouse) as con:
        frame = con.sql(f"select {columns} from marts.consolidated_balance_sheet").pl()
    first = frame.row(0, named=True)
    broken = frame.with_columns(
        balance_group=pl.when(
            (pl.col("period_id") == first["period_id"])
            & (pl.col("statement_line_code") == first["statement_line_code"])
        )
        .then(pl.col("balance_group") + Decimal("1.00"))
        .otherwise(pl.col("balance_group"))
        .cast(frame.schema["balance_group"])
    )
    lines_in_period = frame.filter(pl.col("period_id") == first["period_id"]).height
    outcome = validate(broken, contract)
    assert validate(frame, contract).passed
    assert {rule.split(":")[0]: count for rule, count in outcome.failures_by_rule.items()} == {
        "balance_group_adds_up": 1,
        "consolidated_balance_sheet_balances": lines_in_period,
    }


def test_a_row_edited_to_text_duckdb_hashes_alike_is_written_again(tmp_path: Path) -> None:
    """An edit DuckDB's own row `hash` misses (two characters of one text) still changes the
    rows' fingerprint: the file is written again, with the edited row."""
    target = tmp_path / "mart" / "data.parquet"
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        [(same_hash,)] = con.execute("select hash(?) = hash(?)", list(HASHED_ALIKE)).fetchall()
        con.execute("create table mart as select ? as key, 1.5 as amount", [HASHED_ALIKE[0]])
        first = publish_rows(con, "select * from mart", target)
        again = publish_rows(con, "select * from mart", target)
        con.execute("update mart set key = ?", [HASHED_ALIKE[1]])
        edited = publish_rows(con, "select * from mart", target)
        [(written,)] = con.execute("select key from read_parquet(?)", [str(target)]).fetchall()
    assert same_hash  # the premise: DuckDB's hash alone would call the rows unchanged
    assert (first["rewritten"], again["rewritten"], edited["rewritten"]) == (True, False, True)
    assert written == HASHED_ALIKE[1]


def test_files_written_in_any_order_give_the_connection_back_its_order(tmp_path: Path) -> None:
    """The period files are written with DuckDB free to reorder rows; the connection keeps
    its order again afterwards, also when a write fails, and an `order` still orders a file."""
    target = tmp_path / "mart" / "data.parquet"
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        setting = "select current_setting('preserve_insertion_order')"
        con.execute("create table mart as select range as key from range(300000)")
        with in_any_order(con):
            [(inside,)] = con.execute(setting).fetchall()
            publish_rows(con, "select * from mart", target, order="key desc")
        [(after,)] = con.execute(setting).fetchall()
        with pytest.raises(duckdb.CatalogException), in_any_order(con):
            publish_rows(con, "select * from no_such_mart", target)
        [(after_failure,)] = con.execute(setting).fetchall()
        written = con.execute("select key from read_parquet(?)", [str(target)]).fetchall()
    keys = [key for (key,) in written]
    assert (inside, after, after_failure) == (False, True, True)
    assert keys == list(range(299999, -1, -1))
