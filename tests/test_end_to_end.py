"""The main job on the demo enterprise: every source row lands, and the books close."""

import json
import os
import re
from pathlib import Path

import dagster as dg
import pytest

from bench.finsync import SMALLEST_JOB, definitions
from orchestration.exports.reporting import PUBLISHED_MARTS
from orchestration.paths import DBT_PROJECT_DIR, Paths
from orchestration.transform import (
    DBT_PROJECT,
    DBT_RUNS_KEPT,
    RUNS,
    dbt_artifacts,
    prune_dbt_runs,
)
from tests.conftest import query
from tests.copies import copy_data_dir

PERIODS, ENTITIES = 24, 7


def test_main_job_succeeds_with_every_check_passing(main_run: dg.ExecuteInProcessResult) -> None:
    checks = main_run.get_asset_check_evaluations()
    failed = [c.asset_check_key.to_user_string() for c in checks if not c.passed]
    assert main_run.success
    assert len(checks) > 100  # dbt tests and export checks, each an asset check
    assert failed == []


def test_every_dbt_test_reports_as_a_check_of_its_model(
    main_run: dg.ExecuteInProcessResult,
) -> None:
    """A singular test whose meta names a model it does not ref would only be observed."""
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    tests = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    evaluated = {c.asset_check_key.name for c in main_run.get_asset_check_evaluations()}
    assert len(tests) > 200
    assert tests - evaluated == set()


def dbt_log(paths: Paths, run: dg.ExecuteInProcessResult) -> list[str]:
    """The lines of the log of the run's dbt build."""
    return (dbt_artifacts(paths.data, run.run_id) / "dbt.log").read_text().splitlines()


def test_a_runs_dbt_artifacts_are_kept_in_its_data_dir(paths: Paths, main_run) -> None:
    """dbt's artifacts of the run are the data dir's, not the checkout's: the project's own
    `target/` is the analyst's dbt's."""
    artifacts = dbt_artifacts(paths.data, main_run.run_id)
    assert artifacts is not None and artifacts.parent == paths.dbt / RUNS
    assert {"run_results.json", "manifest.json", "dbt.log"} <= {f.name for f in artifacts.iterdir()}
    assert not list((DBT_PROJECT_DIR / "target").glob(f"*-{main_run.run_id[:7]}-*"))


def test_only_the_latest_dbt_runs_artifacts_are_kept(tmp_path: Path) -> None:
    """Each run's artifacts take 4-16 MB: a daily schedule keeping them all would fill the
    disk. Older invocations' folders go; the latest `DBT_RUNS_KEPT` stay, whatever their
    names."""
    prune_dbt_runs(tmp_path)  # no run yet: nothing to prune, and no error
    runs = Paths(tmp_path).dbt / RUNS
    for age in range(DBT_RUNS_KEPT + 3):
        folder = runs / f"dbt_models-{age:07x}-{age:07x}"
        (folder / "compiled").mkdir(parents=True)
        os.utime(folder, (10_000 - age, 10_000 - age))  # the first made is the newest
    prune_dbt_runs(tmp_path)
    kept = sorted(folder.name for folder in runs.iterdir())
    assert kept == [f"dbt_models-{age:07x}-{age:07x}" for age in range(DBT_RUNS_KEPT)]


def test_dbt_log_holds_the_results_as_text_without_debug_events(
    paths: Paths, main_run: dg.ExecuteInProcessResult
) -> None:
    """dbt's log of the run: every node's result, as plain text; not dbt's default of every
    statement at debug level, whose formatting costs a daily build 1-2 s (dbt_project.yml)."""
    lines = dbt_log(paths, main_run)
    [passed] = [int(m[1]) for line in lines if (m := re.search(r"  Done\. PASS=(\d+) ", line))]
    results = [line for line in lines if re.search(r"  \d+ of \d+ (OK|PASS) ", line)]
    assert len(results) == passed > 200  # a line for each node's result
    assert all(re.match(r"\d\d:\d\d:\d\d  ", line) for line in lines if line)  # text, no colour
    assert not [line for line in lines if "create  table" in line or "COMMIT" in line]


def test_dbt_build_warns_of_nothing(paths: Paths, main_run: dg.ExecuteInProcessResult) -> None:
    """Between its start and its summary, the build's log holds its nodes' lines only: a
    warning (a snapshot's time stamps of two types, a deprecation) would stand out."""
    lines = dbt_log(paths, main_run)
    start = next(i for i, line in enumerate(lines) if "  Concurrency: " in line)
    end = next(i for i, line in enumerate(lines) if "  Finished running " in line)
    said = [
        line
        for line in lines[start + 1 : end]
        if line[10:].strip() and not re.search(r"  \d+ of \d+ ", line)
    ]
    assert said == []


def test_dbt_lines_reach_dagster_without_colour_codes(
    paths: Paths,
    main_run: dg.ExecuteInProcessResult,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """dagster-dbt writes dbt's lines to the step's output, which the Dagster UI shows as
    plain text: a colour code would show there as escapes. One small mart, on a copy."""
    assert main_run.success
    copy = copy_data_dir(paths, tmp_path / "data")
    capfd.readouterr()
    with dg.DagsterInstance.ephemeral() as instance:
        run = definitions(copy).resolve_job_def(SMALLEST_JOB).execute_in_process(instance=instance)
    out = capfd.readouterr().out
    assert run.success
    assert "\x1b[" not in out
    assert re.search(r"\n\d+ of \d+ OK created sql table model \S+\.dim_legal_entity \.", out)


def raw_table_of(extract: str) -> str:
    """Where an extract lands: `erp/journal_items/2025-001.parquet` -> raw_erp.journal_items."""
    system, *rest = extract.split("/")
    renamed = {
        "plano_de_contas.csv": "accounts",
        "centros_de_custo.csv": "cost_centers",
        "drops": "journal_lines",
    }
    table = renamed.get(rest[0], rest[0].split(".")[0])
    return f"raw_{system}.{table}"


def test_every_extract_row_lands_in_raw_exactly_once(paths: Paths, main_run) -> None:
    manifest = json.loads((paths.extracts / "manifest.json").read_text())
    expected: dict[str, int] = {}
    for extract, facts in manifest["files"].items():
        table = raw_table_of(extract)
        expected[table] = expected.get(table, 0) + facts["rows"]
    loaded = {table: query(paths, f"select count(*) from {table}")[0][0] for table in expected}
    assert loaded == expected
    assert expected["raw_erp.journal_items"] == manifest["journal_lines"]["erp"]
    assert len(expected) == 18


def test_every_raw_journal_line_is_booked_or_quarantined(paths: Paths, main_run) -> None:
    [(raw,)] = query(
        paths,
        "select (select count(*) from raw_erp.journal_items)"
        " + (select count(*) from raw_regional_erp.journal_lines)",
    )
    [(booked,)] = query(paths, "select count(*) from marts.fct_gl_journal_lines")
    [(refused,)] = query(paths, "select count(*) from quarantine.quarantine_gl_journal_lines")
    assert raw > 20_000
    assert booked + refused == raw


def test_every_journal_balances_per_entity_and_currency(paths: Paths, main_run) -> None:
    [(documents, unbalanced_txn)] = query(
        paths,
        """
        select count(distinct document_key), count(*) filter (where total <> 0)
        from (
            select document_key, currency_txn, sum(amount_txn) as total
            from marts.fct_gl_journal_lines group by all
        )
        """,
    )
    [(unbalanced_functional,)] = query(
        paths,
        """
        select count(*) from (
            select document_key from marts.fct_gl_journal_lines
            group by all having sum(amount_functional) <> 0
        )
        """,
    )
    assert documents > 1_000
    assert (unbalanced_txn, unbalanced_functional) == (0, 0)


def test_trial_balance_sums_to_zero_for_every_entity_and_period(paths: Paths, main_run) -> None:
    rows = query(
        paths,
        """
        select entity_code, period_id, sum(closing_functional), sum(abs(closing_functional))
        from marts.trial_balance group by all
        """,
    )
    assert len(rows) == ENTITIES * PERIODS
    assert {total for _, _, total, _ in rows} == {0}
    assert min(gross for *_, gross in rows) > 0  # balances exist: zero is not emptiness


def test_balance_sheet_balances_for_every_entity_and_period(paths: Paths, main_run) -> None:
    rows = query(
        paths,
        """
        select
            entity_code,
            period_id,
            sum(amount_functional) filter (where section = 'Assets') as assets,
            sum(amount_functional) filter (where section <> 'Assets') as liabilities_and_equity
        from marts.balance_sheet group by all
        """,
    )
    assert len(rows) == ENTITIES * PERIODS
    unbalanced = [(e, p, a, le) for e, p, a, le in rows if a != le]
    assert unbalanced == []
    assert min(assets for _, _, assets, _ in rows) > 0


def test_current_year_earnings_reset_at_the_fiscal_year_start(paths: Paths, main_run) -> None:
    """Retained earnings carry prior years' results: P&L balances restart in period 1."""
    [(pl_openings,)] = query(
        paths,
        """
        select sum(abs(tb.opening_functional))
        from marts.trial_balance as tb
        inner join marts.dim_account as account using (account_code)
        where account.statement = 'PL' and tb.fiscal_period = 1
        """,
    )
    assert pl_openings == 0


def test_fpa_export_ties_to_the_gl_per_currency(paths: Paths, main_run) -> None:
    files = sorted((paths.exports / "fpa" / "actuals").glob("*.csv"))
    header = files[0].read_text().splitlines()[0]
    exported = dict(
        query(
            paths,
            'select "Currency", sum("Amount")'
            " from read_csv(?, types={'Amount': 'decimal(18,2)'}) group by all",
            [[str(f) for f in files]],
        )
    )
    gl = dict(
        query(
            paths,
            """
            select currency_functional, sum(amount_functional)
            from marts.fct_gl_journal_lines inner join marts.dim_account using (account_code)
            where statement = 'PL' group by all
            """,
        )
    )
    assert len(files) == PERIODS  # one file per fiscal period
    assert header == "Entity,Account,Cost_Center,Month,Currency,Amount,Amount_Group"
    assert exported == gl
    assert set(gl) == {"USD", "EUR", "GBP", "JPY", "BRL"}


@pytest.mark.parametrize("mart", PUBLISHED_MARTS)
def test_reporting_export_has_every_mart_row(paths: Paths, main_run, mart: str) -> None:
    dataset = paths.exports / "reporting" / mart  # one file, or one per period (hive style)
    files = sorted(dataset.glob("*.parquet")) or sorted(dataset.glob("period=*/*.parquet"))
    [(exported,)] = query(paths, "select count(*) from read_parquet(?)", [[str(f) for f in files]])
    [(in_mart,)] = query(paths, f"select count(*) from marts.{mart}")
    assert exported == in_mart > 0
