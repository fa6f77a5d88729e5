"""Evaluating checkpoints into one table, `reconciliation.reconciliation_status`, with history.

Each evaluation rewrites the checkpoint's comparison (`reconciliation.rec_<name>`: every
key with expected, actual, difference and tolerance) and then updates the status table:

- a key that ties has one `ok` row (its values as last checked);
- a key that breaks opens a `break` row (`first_seen`), updated while it stays broken;
- a break that ties again, or whose key is gone, becomes `resolved` (`resolved_at`) and
  stays in the table, so a controller sees when a fixed break was fixed.

A break that opens is returned as new, so that its owner is alerted once, not every run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.reconciliation.checkpoints import SHARED, Checkpoint, Side

SCHEMA = "reconciliation"
STATUS = f"{SCHEMA}.reconciliation_status"
DECLARATIONS = f"{SCHEMA}.checkpoints"
OK, BREAK, RESOLVED = "ok", "break", "resolved"
EMPTY = "null::varchar, null::varchar, null::varchar, null::decimal(38, 2)"

CREATE_STATUS = f"""
    create table if not exists {STATUS} (
        checkpoint varchar not null,
        entity varchar not null,
        period varchar not null,
        unit varchar not null,
        expected decimal(38, 2),
        actual decimal(38, 2),
        difference decimal(38, 2),
        tolerance decimal(38, 2),
        status varchar not null,
        owner_role varchar not null,
        blocking boolean not null,
        first_seen timestamptz not null,
        last_checked_at timestamptz not null,
        resolved_at timestamptz
    )
"""
SAME_KEY = "s.entity = r.entity and s.period = r.period and s.unit = r.unit"


@dataclass(frozen=True)
class Evaluation:
    checkpoint: Checkpoint
    compared: int
    breaks: int
    new_breaks: list[dict] = field(default_factory=list)


def rec_table(checkpoint: Checkpoint) -> str:
    return f"{SCHEMA}.rec_{checkpoint.name}"


def side_sql(side: Side, exports: Path) -> str | None:
    """The side's query; None when it reads export files and there are none."""
    if side.files is None:
        return side.sql
    files = sorted(exports.glob(side.files))
    if not files or (side.requires and not (exports / side.requires).exists()):
        return None
    listed = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    return side.sql.replace("{files}", listed).replace("{root}", str(exports))


def comparison_sql(checkpoint: Checkpoint, exports: Path) -> str:
    """Both sides joined on entity, period and unit; a missing value counts as zero."""
    empty = f"select {EMPTY} where false"
    left, right = (side_sql(side, exports) for side in (checkpoint.left, checkpoint.right))
    file_side = "left_side" if checkpoint.left.files else "right_side"
    only_published = (
        f"where coalesce(l.period, r.period) in (select period from {file_side})"
        if checkpoint.left.files or checkpoint.right.files
        else ""
    )
    return f"""
        with
        left_side (entity, period, unit, value) as ({left or empty}),
        right_side (entity, period, unit, value) as ({right or empty}),
        compared as (
            select
                coalesce(l.entity, r.entity, 'unknown') as entity,
                coalesce(l.period, r.period, 'unknown') as period,
                coalesce(l.unit, r.unit, 'unknown') as unit,
                cast(coalesce(l.value, 0) as decimal(38, 2)) as expected,
                cast(coalesce(r.value, 0) as decimal(38, 2)) as actual
            from left_side as l
            full outer join right_side as r
                on l.entity = r.entity and l.period = r.period and l.unit = r.unit
            {only_published}
        )
        select
            entity, period, unit, expected, actual,
            actual - expected as difference,
            cast(greatest({checkpoint.tolerance_abs}, {checkpoint.tolerance_rel} * abs(expected))
                 as decimal(38, 2)) as tolerance
        from compared
    """


def declare(con: duckdb.DuckDBPyConnection, checkpoints: tuple[Checkpoint, ...]) -> None:
    """The declarations as a table, so BI tools and the status page read them with results."""
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(
        f"""create or replace table {DECLARATIONS} (
            checkpoint varchar, description varchar, left_side varchar, right_side varchar,
            grain varchar, tolerance_abs decimal(38, 2), tolerance_rel decimal(9, 6),
            owner_role varchar, blocking boolean, stage varchar)"""
    )
    con.executemany(
        f"insert into {DECLARATIONS} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                c.name,
                c.description,
                c.left.label,
                c.right.label,
                c.grain,
                c.tolerance_abs,
                c.tolerance_rel,
                c.owner_role,
                c.blocking,
                c.stage,
            ]
            for c in checkpoints
        ],
    )


def prepare(con: duckdb.DuckDBPyConnection, names: Iterable[str] = SHARED) -> None:
    """What several checkpoints read (`checkpoints.SHARED`, or those of `names`), computed
    once on this connection for the evaluations that follow: temporary tables, gone with
    the connection."""
    for name in names:
        con.execute(f"create or replace temp table {name} as {SHARED[name]}")


def evaluate_all(
    con: duckdb.DuckDBPyConnection,
    checkpoints: tuple[Checkpoint, ...],
    exports: Path,
    now: datetime,
) -> list[Evaluation]:
    """`evaluate` each checkpoint, after preparing the shared tables any of them reads."""
    read = " ".join(comparison_sql(checkpoint, exports) for checkpoint in checkpoints)
    prepare(con, [name for name in SHARED if name in read])
    return [evaluate(con, checkpoint, exports, now) for checkpoint in checkpoints]


def evaluate(
    con: duckdb.DuckDBPyConnection, checkpoint: Checkpoint, exports: Path, now: datetime
) -> Evaluation:
    """Compare both sides now and carry the result into the status table."""
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(CREATE_STATUS)
    rec = rec_table(checkpoint)
    con.execute(f"create or replace table {rec} as {comparison_sql(checkpoint, exports)}")
    breaking = f"(select * from {rec} where abs(difference) > tolerance)"
    tying = f"(select * from {rec} where abs(difference) <= tolerance)"
    name = checkpoint.name

    def refresh(rows: str, status: str) -> None:
        """This run's figures on the rows of `status` whose key is in `rows`."""
        con.execute(
            f"update {STATUS} as s set expected = r.expected, actual = r.actual,"
            " difference = r.difference, tolerance = r.tolerance, last_checked_at = ?"
            f" from {rows} as r where s.checkpoint = ? and s.status = '{status}' and {SAME_KEY}",
            [now, name],
        )

    def add_new(rows: str, status: str) -> None:
        """A row of `status` for each key in `rows` that has none yet (first seen now)."""
        con.execute(
            f"""insert into {STATUS}
                select ?, r.entity, r.period, r.unit, r.expected, r.actual, r.difference,
                       r.tolerance, '{status}', ?, ?, ?, ?, null
                from {rows} as r
                where not exists (
                    select 1 from {STATUS} as s
                    where s.checkpoint = ? and s.status = '{status}' and {SAME_KEY})""",
            [name, checkpoint.owner_role, checkpoint.blocking, now, now, name],
        )

    # open breaks: still broken -> refresh; tying again or gone -> resolved
    refresh(breaking, BREAK)
    refresh(tying, BREAK)
    con.execute(
        f"update {STATUS} as s set status = '{RESOLVED}', resolved_at = ?, last_checked_at = ?"
        f" where s.checkpoint = ? and s.status = '{BREAK}'"
        f" and not exists (select 1 from {breaking} as r where {SAME_KEY})",
        [now, now, name],
    )
    add_new(breaking, BREAK)
    # keys that tie: one ok row each
    con.execute(
        f"delete from {STATUS} as s where s.checkpoint = ? and s.status = '{OK}'"
        f" and not exists (select 1 from {tying} as r where {SAME_KEY})",
        [name],
    )
    refresh(tying, OK)
    add_new(tying, OK)
    [(compared,)] = con.execute(f"select count(*) from {rec}").fetchall()
    cursor = con.execute(
        f"""select entity, period, unit, expected, actual, difference, tolerance,
                   first_seen = ? as is_new
            from {STATUS} where checkpoint = ? and status = '{BREAK}' order by all""",
        [now, name],
    )
    columns = [d[0] for d in cursor.description]
    open_breaks = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    new = [{k: v for k, v in b.items() if k != "is_new"} for b in open_breaks if b["is_new"]]
    return Evaluation(checkpoint, compared, len(open_breaks), new)


def open_breaks(con: duckdb.DuckDBPyConnection, checkpoint: str) -> list[tuple]:
    """(entity, period, unit, difference) of the checkpoint's open breaks."""
    return con.execute(
        f"select entity, period, unit, difference from {STATUS}"
        f" where checkpoint = ? and status = '{BREAK}' order by all",
        [checkpoint],
    ).fetchall()
