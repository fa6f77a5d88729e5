"""FP&A planning tool (Anaplan-like) API: plan versions and plan lines.

A plan send is all or nothing. Everything the API changed since the last load (every page
of versions and lines) is read and validated before a single row is yielded: a line
whose entity or account the group ERP does not know (its company codes and GL accounts,
read from the ERP's API: master data lives there), a duplicate line key, an amount that is
not a number, a month that is not a month, a change time without its zone, a line of a
version the tool does not list, or a version older than the current one raises
`PlanRejected`, naming the rows. The load then
fails before anything reaches `raw_fpa`, so the warehouse never holds part of a version;
the planning tool fixes the send and the next sync loads it.

"Older than the current one": a version sent again with an earlier submission time than
the one loaded, or a new version submitted before the latest loaded version of the same
type and fiscal year (a forecast never replaces a newer one). Every version keeps its own
lines (the version is part of the key), so a new forecast never overwrites an older one.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

from ingest.api import (
    ClientCredentials,
    NotOfType,
    RequestLog,
    columns_of,
    joined_keys,
    page_holds,
    snake_case,
    typed,
)
from ingest.rest import checked
from ingest.row_ids import with_row_ids
from sandbox import schemas

ROOT = "2/0/models/finsync-plan"
ERP_ROOT = "sap/opu/odata4/sap/api_finance/srvd_a2x/0001"
EPOCH = "1970-01-01T00:00:00.000000Z"
UPDATED = pa.field("Last_Updated", schemas.TS)
VERSIONS = schemas.PLAN_VERSIONS.append(UPDATED)
LINES = schemas.PLAN_LINES.append(UPDATED)
VERSION_KEY = ["Version"]
LINE_KEY = ["Version", "Entity", "Account", "Cost_Center", "Month"]
# the whole text (`fullmatch`: `$` alone passes "Apr 25\n"), ASCII digits (Python's `\d` takes any)
MONTH = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{2}$")
VERSION_TYPES = {"Budget", "Forecast"}
STATUSES = {"Draft", "Submitted", "Approved"}
CENT = Decimal("0.01")
SHOWN = 10  # rows named in the error; the count says how many more


class PlanRejected(ValueError):
    """A plan send that must not load: the message names each bad row and why."""


def timestamp(value: Any) -> datetime:
    """An ISO time with its zone: without one, the instant is unknown (the other sources
    refuse it as well: `ingest.api.typed`)."""
    if not isinstance(value, str):
        raise ValueError(f"not an ISO timestamp: {value!r}")
    stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone")
    return stamp


def amount(value: Any) -> Decimal:
    """The planning tool sends amounts as exact decimal strings (or numbers)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"amount {value!r} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"amount {value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"amount {value!r} is not a finite number")
    if number != number.quantize(CENT):
        raise ValueError(f"amount {value!r} has more than two decimals")
    return number


def describe(kind: str, index: int, record: dict[str, Any], key: list[str]) -> str:
    return f"{kind} {index} ({', '.join(f'{k}={record.get(k)!r}' for k in key)})"


def validate(
    versions: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    loaded: dict[str, dict[str, Any]],
    entities: set[str],
    accounts: set[str],
) -> tuple[pa.Table, pa.Table]:
    """The send as typed tables, or PlanRejected naming every bad row.

    `loaded` is what earlier loads committed: version -> type, fiscal year, submitted_at.
    The lines are checked column by column first (`lines_in_bulk`); only a send that may
    hold a bad line is read line by line (`checked_lines`), to name each bad one.
    """
    problems, typed_versions = checked_versions(versions, loaded)
    known = {version["Version"] for version in typed_versions} | loaded.keys()
    bulk = None if problems else lines_in_bulk(lines, known, entities, accounts)
    if bulk is None:
        line_problems, typed_lines = checked_lines(lines, known, entities, accounts)
        problems += line_problems
    if problems:
        shown = "\n  ".join(problems[:SHOWN])
        more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise PlanRejected(
            f"plan send refused, nothing loaded: {len(problems)} bad row(s)\n  {shown}{more}"
        )
    if bulk is None:
        bulk = table(typed_lines, LINES, LINE_KEY)
    return table(typed_versions, VERSIONS, VERSION_KEY), bulk


def checked_versions(
    versions: list[dict[str, Any]], loaded: dict[str, dict[str, Any]]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The problems of the send's versions, and the versions that parse, typed."""
    problems: list[str] = []
    typed_versions: list[dict[str, Any]] = []
    listed: set[str] = set()
    for index, record in enumerate(versions, start=1):
        row = describe("version", index, record, VERSION_KEY)
        try:
            version = {
                "Version": record["Version"],
                "Version_Name": record.get("Version_Name"),
                "Version_Type": record["Version_Type"],
                "Fiscal_Year": int(record["Fiscal_Year"]),
                "Status": record["Status"],
                "Submitted_At": timestamp(record["Submitted_At"]),
                "Last_Updated": timestamp(record["Last_Updated"]),
            }
        except (KeyError, TypeError, ValueError) as error:
            problems.append(f"{row}: {type(error).__name__} {error}")
            continue
        if version["Version_Type"] not in VERSION_TYPES:
            problems.append(f"{row}: unknown version type {version['Version_Type']!r}")
        if version["Status"] not in STATUSES:
            problems.append(f"{row}: unknown status {version['Status']!r}")
        if older := older_than_current(version, loaded):
            problems.append(f"{row}: {older}")
        if version["Version"] in listed:
            problems.append(f"{row}: duplicate version {version['Version']!r}")
        listed.add(version["Version"])
        typed_versions.append(version)
    return problems, typed_versions


def checked_lines(
    lines: list[dict[str, Any]], known: set[str], entities: set[str], accounts: set[str]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Line by line: the problems of each bad line, by its position and key, and the good
    lines typed. `known` are the versions of the send and of earlier loads."""
    problems: list[str] = []
    typed_lines: list[dict[str, Any]] = []
    keys = Counter(tuple(record.get(k) for k in LINE_KEY) for record in lines)
    for index, record in enumerate(lines, start=1):
        row = describe("plan line", index, record, LINE_KEY)
        reasons = []
        if keys[tuple(record.get(k) for k in LINE_KEY)] > 1:
            reasons.append("duplicate key: the send holds this line more than once")
        if record.get("Version") not in known:
            reasons.append(f"version {record.get('Version')!r} is not a version of the tool")
        if record.get("Entity") not in entities:
            reasons.append(f"unknown entity {record.get('Entity')!r}")
        if record.get("Account") not in accounts:
            reasons.append(f"unknown account {record.get('Account')!r}")
        if not isinstance(record.get("Cost_Center"), str) or not record["Cost_Center"]:
            reasons.append("no cost center (the tool's member for none is NONE)")
        if not isinstance(record.get("Month"), str) or not MONTH.fullmatch(record["Month"]):
            reasons.append(f"month {record.get('Month')!r} is not a month like 'Apr 25'")
        try:
            value = amount(record.get("Amount"))
            changed = timestamp(record.get("Last_Updated"))
        except ValueError as error:
            reasons.append(str(error))
        if reasons:
            problems.append(f"{row}: {'; '.join(reasons)}")
            continue
        typed_lines.append(
            {**{k: record[k] for k in LINE_KEY}, "Currency": record.get("Currency")}
            | {"Amount": value, "Last_Updated": changed}
        )
    return problems, typed_lines


def lines_in_bulk(
    lines: list[dict[str, Any]], known: set[str], entities: set[str], accounts: set[str]
) -> pa.Table | None:
    """The lines typed as `checked_lines` types them, checked column by column in Arrow
    (a forecast of 100k lines: ~0.2 s, where line by line takes ~2 s); None where a line
    may break a rule: a field missing or of another JSON type, a rule broken. Stricter than
    `checked_lines` (a JSON number or a decimal it reads with Python's leniency falls back
    to it), never looser, so a send loads the same rows either way."""
    columns = columns_of(lines)
    if columns is None or not {f.name for f in LINES} <= columns.keys():
        return None
    try:
        typed_columns = {f.name: typed(columns[f.name], f.type) for f in LINES}
    except NotOfType:
        return None
    if any(typed_columns[k].null_count for k in (*LINE_KEY, "Amount", "Last_Updated")):
        return None
    values = {k: typed_columns[k] for k in LINE_KEY}
    rules = [
        pc.is_in(values["Version"], texts(known)),
        pc.is_in(values["Entity"], texts(entities)),
        pc.is_in(values["Account"], texts(accounts)),
        pc.not_equal(values["Cost_Center"], ""),
        pc.match_substring_regex(values["Month"], MONTH.pattern),
    ]
    if not all(pc.all(rule).as_py() for rule in rules):
        return None
    if pa.table(values).group_by(LINE_KEY).aggregate([]).num_rows < len(lines):
        return None  # a duplicate key
    return pa.Table.from_arrays(
        list(typed_columns.values()), schema=warehouse_schema(LINES, LINE_KEY)
    )


def texts(members: set[Any]) -> pa.Array:
    """A set of members as text for `pc.is_in`: a member of another JSON type (a version
    code sent as a number) matches no text line, whose check then names it."""
    return pa.array(sorted(m for m in members if isinstance(m, str)), pa.string())


def older_than_current(version: dict[str, Any], loaded: dict[str, dict[str, Any]]) -> str | None:
    submitted = version["Submitted_At"]
    if (before := loaded.get(version["Version"])) is not None:
        if submitted < timestamp(before["submitted_at"]):
            return (
                f"older than the current one: submitted {submitted.isoformat()}, the loaded"
                f" version was submitted {before['submitted_at']}"
            )
        return None
    peers = [
        (timestamp(v["submitted_at"]), code)
        for code, v in loaded.items()
        if v["type"] == version["Version_Type"] and v["fiscal_year"] == version["Fiscal_Year"]
    ]
    if peers and submitted < max(peers)[0]:
        latest_at, latest = max(peers)
        return (
            f"older than the current {version['Version_Type'].lower()} {latest} of fiscal year"
            f" {version['Fiscal_Year']} (submitted {latest_at.isoformat()})"
        )
    return None


def unseen(
    records: list[dict[str, Any]], key: list[str], since: datetime, at_mark: list[str]
) -> list[dict[str, Any]]:
    """The API answers changes at or after `since` (a record stamped with the mark's own
    instant after the last load is not missed); the records at the mark that the last load
    committed are dropped, so an unchanged tool loads nothing."""
    if not at_mark:
        return records
    loaded = set(at_mark)

    def seen(record: dict[str, Any]) -> bool:
        try:
            stamped = timestamp(record.get("Last_Updated"))
        except ValueError:
            return False  # validate() names it
        return stamped == since and "|".join(str(record.get(k)) for k in key) in loaded

    return [record for record in records if not seen(record)]


def table(rows: list[dict[str, Any]], schema: pa.Schema, key: list[str]) -> pa.Table:
    """Typed like the extract contract, in warehouse column names; keys are not nullable,
    as the other sources' keys are declared."""
    return pa.Table.from_pylist(
        [{snake_case(k): v for k, v in row.items()} for row in rows],
        schema=warehouse_schema(schema, key),
    )


def warehouse_schema(schema: pa.Schema, key: list[str]) -> pa.Schema:
    return pa.schema(
        pa.field(snake_case(f.name), f.type, nullable=f.name not in key) for f in schema
    )


def fetch(
    client: RESTClient, path: str, records: str, params: dict[str, str], check: Any = None
) -> list[dict]:
    """Every page's records; `check` refuses a page whose envelope is wrong."""
    paginator = copy.deepcopy(client.paginator)
    pages = client.paginate(
        path,
        params=params,
        data_selector=records,
        paginator=checked(paginator, check) if check else paginator,
    )
    return [record for page in pages for record in page]


def erp_members(request_log: RequestLog) -> tuple[set[str], set[str]]:
    """The group's company codes and GL accounts, from the ERP's API."""
    base_url = dlt.config["sources.erp.base_url"]
    client = RESTClient(
        base_url=base_url,
        auth=ClientCredentials(token_url=f"{base_url}/oauth/token", system="erp"),
        paginator=JSONLinkPaginator(next_url_path="['@odata.nextLink']"),
        session=request_log.session(),
    )
    companies = fetch(client, f"{ERP_ROOT}/CompanyCodes", "value", {})
    accounts = fetch(client, f"{ERP_ROOT}/GLAccounts", "value", {})
    return {c["CompanyCode"] for c in companies}, {a["GLAccount"] for a in accounts}


@dlt.source(name="fpa", max_table_nesting=0)
def fpa(base_url: str = dlt.config.value, request_log: RequestLog | None = None):
    log = request_log or RequestLog()
    check = page_holds(("items", list), ("meta.paging.totalSize", int))
    client = RESTClient(
        base_url=base_url,
        auth=ClientCredentials(token_url=f"{base_url}/oauth/token", system="fpa"),
        paginator=JSONLinkPaginator(next_url_path="meta.paging.next"),
        session=log.session(),
    )
    send: dict[str, pa.Table] = {}

    def read_send() -> dict[str, pa.Table]:
        """Once per load: fetch and validate the whole send; commit its state with the load."""
        if send:
            return send
        state = dlt.current.source_state().setdefault("plan", {"since": EPOCH, "versions": {}})
        at_mark = state.setdefault("at_mark", {"versions": [], "lines": []})
        params = {"modifiedSince": state["since"]}
        since = timestamp(state["since"])
        versions = unseen(
            fetch(client, f"{ROOT}/versions", "items", params, check),
            VERSION_KEY,
            since,
            at_mark["versions"],
        )
        lines = unseen(
            fetch(client, f"{ROOT}/lines", "items", params, check),
            LINE_KEY,
            since,
            at_mark["lines"],
        )
        entities, accounts = erp_members(log)
        send["versions"], send["lines"] = validate(
            versions, lines, state["versions"], entities, accounts
        )
        for version in send["versions"].to_pylist():
            state["versions"][version["version"]] = {
                "type": version["version_type"],
                "fiscal_year": version["fiscal_year"],
                "submitted_at": version["submitted_at"].isoformat(),
            }
        changed = [t["last_updated"] for t in send.values() if t.num_rows]
        if changed:
            latest = max(max(c.to_pylist()) for c in changed)
            if latest > since:
                state["since"] = latest.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                at_mark["versions"], at_mark["lines"] = [], []
            for name, key in (("versions", VERSION_KEY), ("lines", LINE_KEY)):
                rows = send[name].filter(pc.equal(send[name]["last_updated"], latest))
                keys = joined_keys([rows[snake_case(k)] for k in key])  # a version's every line
                at_mark[name] = sorted(set(keys).union(at_mark[name]))
        return send

    @dlt.resource(name="plan_versions", primary_key="version", write_disposition="merge")
    def plan_versions() -> Iterator[pa.Table]:
        if (data := read_send()["versions"]).num_rows:
            yield with_row_ids(data)

    @dlt.resource(
        name="plan_lines",
        primary_key=[snake_case(k) for k in LINE_KEY],
        write_disposition="merge",
    )
    def plan_lines() -> Iterator[pa.Table]:
        if (data := read_send()["lines"]).num_rows:
            yield with_row_ids(data)

    return plan_versions, plan_lines
