"""The finance-operations status page: one static, self-contained HTML file (inline CSS and
SVG, no script, no CDN) under `<data>/exports/status/index.html`, for controllers who do
not open Dagster: freshness of each promised product, open reconciliation breaks by
owner, close progress by entity and period, restatements.

It is an asset downstream of `reconciliation_status`, not of the exports, so that it
renders when a blocking break stops the FP&A export: that is when it matters most.
Export checkpoints appear as of the last export reconciliation.
"""

import html
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.automation import POLICIES, follows_inputs, promise
from orchestration.ingest import WAREHOUSE_POOL
from orchestration.reconciliation.assets import RECONCILIATION_STATUS
from orchestration.reconciliation.status import BREAK, RESOLVED, STATUS
from orchestration.resources import Exports, Warehouse

STATUS_PAGE = dg.AssetKey(["reconciliation", "status_page"])
CLOSE_COLOURS = {"done": "#2e7d32", "pending": "#f9a825", "late": "#c62828"}
FRESHNESS_COLOURS = {"fresh": "#2e7d32", "warn": "#f9a825", "stale": "#c62828", "never": "#9e9e9e"}
BREAK_COLUMNS = [
    "checkpoint",
    "entity",
    "period",
    "unit",
    "expected",
    "actual",
    "difference",
    "owner_role",
    "blocking",
    "first_seen",
]
RESOLVED_COLUMNS = [
    "checkpoint",
    "entity",
    "period",
    "unit",
    "difference",
    "owner_role",
    "first_seen",
    "resolved_at",
]
RESTATEMENT_COLUMNS = [
    "entity_code",
    "period_id",
    "document_number",
    "currency_functional",
    "amount_functional",
    "products_changed",
    "is_flagged",
    "posted_at",
    "locked_at",
]
STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #212121; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
th { background: #f5f5f5; }
.summary span { display: inline-block; margin-right: 18px; font-weight: 600; }
.blocking { color: #c62828; }
"""


@dataclass(frozen=True)
class Freshness:
    asset: str
    promise: str
    last_materialized: datetime | None
    state: str  # fresh | warn | stale | never


def freshness(
    instance: dg.DagsterInstance, keys: list[dg.AssetKey], now: datetime
) -> list[Freshness]:
    """Each promised product's age against its policy's windows, from its last materialization."""
    rows = []
    for key in sorted(keys, key=lambda k: k.to_user_string()):
        kept = promise(key)
        if kept is None:
            continue
        policy = POLICIES[kept]
        event = instance.get_latest_materialization_event(key)
        last = datetime.fromtimestamp(event.timestamp, UTC) if event else None
        if last is None:
            state = "never"
        elif now - last > timedelta(seconds=policy.fail_window.to_timedelta().total_seconds()):
            state = "stale"
        elif policy.warn_window and now - last > policy.warn_window.to_timedelta():
            state = "warn"
        else:
            state = "fresh"
        rows.append(Freshness(key.to_user_string(), kept, last, state))
    return rows


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    [(n,)] = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return n > 0


def read_status(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """What the page shows, read in one short connection."""
    status = _exists(con, "reconciliation", "reconciliation_status")
    return {
        "breaks": _rows(
            con,
            f"""select checkpoint, entity, period, unit, expected, actual, difference,
                       owner_role, blocking, first_seen
                from {STATUS} where status = '{BREAK}'
                order by owner_role, checkpoint, entity, period""",
        )
        if status
        else [],
        "resolved": _rows(
            con,
            f"""select checkpoint, entity, period, unit, difference, owner_role, first_seen,
                       resolved_at
                from {STATUS} where status = '{RESOLVED}'
                order by resolved_at desc limit 50""",
        )
        if status
        else [],
        "close": _rows(
            con,
            """select entity_code, period_id, close_status, milestones_done, milestones_planned,
                      next_milestone, restatements
               from marts.close_status order by entity_code, period_id""",
        )
        if _exists(con, "marts", "close_status")
        else [],
        "restatements": _rows(
            con,
            """select entity_code, period_id, document_number, currency_functional,
                      amount_functional, products_changed, is_flagged, posted_at, locked_at
               from marts.restated_postings order by posted_at desc""",
        )
        if _exists(con, "marts", "restated_postings")
        else [],
    }


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def bar_chart(counts: dict[str, int], title: str, colours: dict[str, str] | None = None) -> str:
    """Horizontal bars, one per label, as inline SVG (red unless `colours` names one)."""
    width, bar, gap, label_w = 520, 22, 8, 140
    top = max(counts.values(), default=0) or 1
    height = max(len(counts), 1) * (bar + gap) + gap
    parts = [
        f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{_e(title)}</title>",
    ]
    for i, (label, count) in enumerate(counts.items()):
        y = gap + i * (bar + gap)
        length = (width - label_w - 60) * count / top
        parts += [
            f'<text x="0" y="{y + bar - 6}" font-size="13">{_e(label)}</text>',
            f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{bar}"'
            f' fill="{(colours or {}).get(label, "#c62828")}"/>',
            f'<text x="{label_w + length + 6:.1f}" y="{y + bar - 6}" font-size="13">{count}</text>',
        ]
    if not counts:
        parts.append(f'<text x="0" y="{bar}" font-size="13">no open breaks</text>')
    parts.append("</svg>")
    return "".join(parts)


def close_grid(close: list[dict]) -> str:
    """One cell per entity and period, coloured by close status, as inline SVG."""
    entities = sorted({r["entity_code"] for r in close})
    periods = sorted({r["period_id"] for r in close})
    cell, label_w, label_h = 18, 60, 70
    width, height = label_w + cell * len(periods) + 10, label_h + cell * len(entities) + 10
    parts = [
        f'<svg role="img" aria-label="Close progress by entity" width="{width}"'
        f' height="{height}" xmlns="http://www.w3.org/2000/svg">',
        "<title>Close progress by entity and period</title>",
    ]
    for j, period in enumerate(periods):
        x = label_w + j * cell + cell / 2
        parts.append(
            f'<text x="{x}" y="{label_h - 4}" font-size="10"'
            f' transform="rotate(-60 {x} {label_h - 4})">{_e(period)}</text>'
        )
    for i, entity in enumerate(entities):
        parts.append(
            f'<text x="0" y="{label_h + i * cell + 13}" font-size="12">{_e(entity)}</text>'
        )
    position = {(e, p): (i, j) for i, e in enumerate(entities) for j, p in enumerate(periods)}
    for row in close:
        i, j = position[(row["entity_code"], row["period_id"])]
        tip = (
            f"{row['entity_code']} {row['period_id']}: {row['close_status']}"
            f" ({row['milestones_done']}/{row['milestones_planned']})"
        )
        parts.append(
            f'<rect class="close-{_e(row["close_status"])}" x="{label_w + j * cell}"'
            f' y="{label_h + i * cell}" width="{cell - 2}" height="{cell - 2}"'
            f' fill="{CLOSE_COLOURS[row["close_status"]]}"><title>{_e(tip)}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


def table(rows: list[dict], columns: list[str], css_id: str) -> str:
    if not rows:
        return f'<p id="{css_id}" class="empty">none</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(row.get(c))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return f'<table id="{css_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render(status: dict[str, list[dict]], fresh: list[Freshness], now: datetime) -> str:
    breaks = status["breaks"]
    by_owner: dict[str, int] = {}
    for b in breaks:
        by_owner[b["owner_role"]] = by_owner.get(b["owner_role"], 0) + 1
    latest: dict[str, dict] = {}
    for row in status["close"]:
        if row["milestones_done"] > 0:
            latest[row["entity_code"]] = row  # rows are ordered by period
    progress = [
        {
            "entity": e,
            "period": r["period_id"],
            "status": r["close_status"],
            "milestones": f"{r['milestones_done']}/{r['milestones_planned']}",
            "next": r["next_milestone"],
        }
        for e, r in sorted(latest.items())
    ]
    freshness_rows = [
        {
            "product": f.asset,
            "promise": f.promise,
            "last materialized": f.last_materialized.isoformat(timespec="seconds")
            if f.last_materialized
            else "never",
            "state": f.state,
        }
        for f in fresh
    ]
    states = {s: sum(1 for f in fresh if f.state == s) for s in FRESHNESS_COLOURS}
    blocking = sum(1 for b in breaks if b["blocking"])
    legend = " ".join(f'<span style="color:{c}">■ {s}</span>' for s, c in CLOSE_COLOURS.items())
    sections = [
        "<h2>Open reconciliation breaks by owner</h2>",
        bar_chart(dict(sorted(by_owner.items())), "Open reconciliation breaks by owner"),
        table(breaks, BREAK_COLUMNS, "breaks"),
        "<h2>Close progress by entity</h2>",
        close_grid(status["close"]) if status["close"] else "",
        f"<p>{legend}</p>",
        table(progress, ["entity", "period", "status", "milestones", "next"], "close-progress"),
        "<h2>Restatements (postings into locked periods)</h2>",
        table(status["restatements"], RESTATEMENT_COLUMNS, "restatements"),
        "<h2>Freshness of each product</h2>",
        bar_chart(
            {s: n for s, n in states.items() if n}, "Products by freshness state", FRESHNESS_COLOURS
        ),
        table(freshness_rows, ["product", "promise", "last materialized", "state"], "freshness"),
        "<h2>Recently resolved breaks</h2>",
        table(status["resolved"], RESOLVED_COLUMNS, "resolved"),
    ]
    summary = (
        f'<p class="summary"><span id="open-breaks">Open breaks: {len(breaks)}</span>'
        f'<span id="blocking-breaks" class="blocking">Blocking: {blocking}</span>'
        f'<span id="restatement-count">Restatements: {len(status["restatements"])}</span>'
        f'<span id="stale-products">Stale products: {states["stale"]}</span></p>'
    )
    generated = _e(now.isoformat(timespec="seconds"))
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>finsync — finance operations status</title><style>{STYLE}</style></head>"
        f"<body><h1>Finance operations status</h1><p>Generated {generated}.</p>{summary}\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )


@dg.asset(
    key=STATUS_PAGE,
    automation_condition=follows_inputs(STATUS_PAGE),
    deps=[
        RECONCILIATION_STATUS,
        dg.AssetKey(["marts", "close_status"]),
        dg.AssetKey(["marts", "restated_postings"]),
    ],
    group_name="reconciliation",
    kinds={"html"},
    pool=WAREHOUSE_POOL,
    description="The finance-operations status page (static HTML): freshness of each product,"
    " open reconciliation breaks by owner, close progress by entity, restatements.",
)
def status_page(
    context: dg.AssetExecutionContext, warehouse: Warehouse, exports: Exports
) -> dg.MaterializeResult:
    now = datetime.now(UTC)
    with warehouse.connect() as con:
        status = read_status(con)
    # the job's graph (every asset of the deployment when run from its definitions) and
    # whatever else the instance has seen materialized
    graph = context.job_def.asset_layer.asset_graph.get_all_asset_keys()
    keys = sorted(set(graph) | set(context.instance.get_asset_keys()), key=str)
    page = Path(exports.root) / "status" / "index.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    partial = page.with_name(f".{page.name}.partial")
    partial.write_text(render(status, freshness(context.instance, keys, now), now))
    partial.replace(page)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(page)),
            "url": dg.MetadataValue.url(page.as_uri()),
            "open_breaks": len(status["breaks"]),
            "restatements": len(status["restatements"]),
        }
    )
