"""One resource of a vendor REST API: merge on its key, incremental on its last-change
field, each page checked by the contract.

Built on dlt's REST client (paginators, auth, retrying session) rather than the
declarative `rest_api` source: routing a page's bad rows to quarantine must happen
per page, where dlt's rest_api processing steps work row by row (per-row table
hints cost 100x in extract time).

The cursor is safe at its boundary: the vendor is asked for changes at or after the
high-water mark (`ge`), so a record that arrives late with the same last-change time
as the mark is still seen; the keys already loaded at the mark are kept in the
resource state (sorted, so an unchanged source leaves the state unchanged and a
re-run commits nothing) and skipped. dlt's own boundary dedup would do the same but
stores its hashes in set order, which differs per process.

A vendor with a bulk export (Salesforce's Bulk API 2.0) gives the first load, when
the resource has no cursor yet, as CSV pages: read into Arrow by Arrow, checked by the
same contract (in its text mode), and through the same incremental, so the cursor
after it is the bulk data's high-water mark and its keys at the mark are the ones
the next increment skips. That first load appends into the table it creates
(`ingest/first_load.py`), leaving out the records it says are deleted; every load after
it merges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Response

from ingest.api import (
    QUARANTINE_HINTS,
    Contract,
    IncompleteExtract,
    TableRows,
    columns_of,
    field_at,
    raise_for_status,
    snake_case,
)
from ingest.first_load import first_load_hints
from ingest.row_ids import with_row_ids

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Bulk = Callable[[], tuple[int, Iterator[pa.Table]]]
"""Starts a bulk export of a resource's every record: how many it holds, and its pages
as tables of text (a CSV's, unparsed)."""


def vendor_time(value: datetime) -> str:
    """A timestamp as the vendors write it: ISO UTC, microseconds, `Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Boundary:
    """Which records at the high-water mark are loaded already, and the next mark."""

    def __init__(self, contract: Contract, start: datetime, loaded: list[str]) -> None:
        self.contract, self.start = contract, start
        self.loaded = set(loaded)
        self.mark, self.at_mark = start, set(loaded)

    def skip(
        self, page: Sequence[dict[str, Any]], columns: dict[str, pa.Array] | None = None
    ) -> set[int]:
        """The rows of the page that are loaded already; notes the page's latest change."""
        if not page:
            return set()
        cursors = self.contract.cursors(page, columns)
        start = pa.scalar(self.start, cursors.type)
        seen = pc.indices_nonzero(pc.equal(cursors, start).fill_null(False)).to_pylist()
        keys = self.contract.keys_of(page, columns, seen)
        skip = {row for row, key in zip(seen, keys, strict=True) if key in self.loaded}
        latest = pc.max(cursors).as_py()
        if latest is not None and latest >= self.mark:
            if latest > self.mark:
                self.mark, self.at_mark = latest, set()
            at = pc.indices_nonzero(pc.equal(cursors, pa.scalar(latest, cursors.type)))
            self.at_mark.update(self.contract.keys_of(page, columns, at.to_pylist()))
        return skip

    def keys(self) -> list[str]:
        return sorted(self.at_mark)


def api_resource(
    client: RESTClient,
    system: str,
    name: str,
    *,
    path: str,
    records: str,
    check_page: Any,
    schema: pa.Schema,
    key: list[str],
    cursor: str,
    since_param: tuple[str, str],
    table: str | None = None,
    initial_value: datetime | None = None,
    initial_loaded: list[str] | None = None,
    extra_columns: dict[str, dict[str, Any]] | None = None,
    drop: tuple[str, ...] = (),
    total: str | None = None,
    bulk: Bulk | None = None,
) -> DltResource:
    """`since_param` is (query parameter, template with `{since}`): how the vendor
    selects on last-change time, e.g. `("$filter", "LastChangeDateTime ge {since}")`.
    `initial_loaded` are the keys at `initial_value` loaded by other means (bulk files).
    `total` is where the first page says how many records match: that many distinct
    keys must arrive, or the load fails (`IncompleteExtract`) before it commits.
    `bulk` takes the first load (no cursor in the resource state yet); the API takes
    every load after it.

    Records are renamed to warehouse names here, as the bulk files are: dlt would keep
    `Legal_Entity__c`'s double underscore (its nesting separator) as `legal_entity__c`."""
    contract = Contract(system, name, schema, key, cursor, drop)
    csv_contract = Contract(system, name, schema, key, cursor, drop, text=True)
    param, template = since_param
    cursor_column = snake_case(cursor)
    table_name = table or name
    # of a record sent twice in one load (repeated across pages, or also in the bulk files)
    # the latest change is kept; a record the vendor says is deleted leaves raw
    merge_columns = {cursor_column: {"dedup_sort": "desc"}} | (extra_columns or {})
    deleted_by = [c for c, hints in merge_columns.items() if hints.get("hard_delete")]

    def pages(
        changed: dlt.sources.incremental[datetime] = dlt.sources.incremental(  # noqa: B008 (dlt idiom)
            cursor_column,
            initial_value=initial_value or EPOCH,
            on_cursor_value_missing="include",
            primary_key=(),  # the boundary is deduplicated by `Boundary`, in sorted state
        ),
    ) -> Iterator[Any]:
        state = dlt.current.resource_state()
        first_load = bulk is not None and "loaded_at_mark" not in state
        checks = csv_contract if first_load else contract
        # a bulk export's first load appends into the table it creates (its keys are
        # unique: `IncompleteExtract` below), without the records it says are deleted
        appended = (
            first_load_hints(table_name, contract.primary_key, merge_columns)
            if first_load
            else None
        )
        boundary = Boundary(
            checks, changed.start_value, state.get("loaded_at_mark", initial_loaded or [])
        )
        refused: set[tuple[str, str]] = set()
        promised, arrived, keyless = None, set(), 0
        for page, columns, says in bulk_pages(bulk) if first_load else api_pages(changed):
            promised = says if promised is None else promised
            keys, without_key = checks.keys(page, columns)
            arrived.update(keys)
            keyless += without_key
            good, bad = checks.split(page, columns, boundary.skip(page, columns))
            # a record repeated across pages is merged once; quarantine appends, so drop it
            bad = [(r, why) for r, why in bad if _first(refused, checks, r)]
            if appended:
                good = _without_deleted(good, deleted_by)
            if good.num_rows:
                rows = with_row_ids(good)
                yield (
                    dlt.mark.with_hints(rows, appended, create_table_variant=True)
                    if appended
                    else rows
                )
            if bad:
                yield dlt.mark.with_hints(
                    with_row_ids(checks.quarantine(bad)),
                    QUARANTINE_HINTS,
                    create_table_variant=True,
                )
        if promised is not None and len(arrived) + keyless != promised:
            raise IncompleteExtract(
                f"{system}/{name}: the API said {promised} records match,"
                f" {len(arrived) + keyless} distinct arrived"
            )
        if state.get("loaded_at_mark") != boundary.keys():
            state["loaded_at_mark"] = boundary.keys()

    def api_pages(changed: dlt.sources.incremental[datetime]) -> Iterator[tuple]:
        """(records, their columns, the total the API says match or None) per page."""
        for page in client.paginate(
            path,
            params={param: template.format(since=vendor_time(changed.start_value))},
            data_selector=records,
            hooks={"response": [raise_for_status, check_page]},
        ):
            columns = columns_of(page)
            yield page, columns, field_at(page.response.json(), total) if total else None

    def bulk_pages(start: Bulk) -> Iterator[tuple]:
        count, pages = start()
        for table in pages:
            rows = TableRows(table)
            yield rows, rows.columns(), count

    return dlt.resource(
        pages,
        name=name,
        table_name=table_name,
        primary_key=contract.primary_key,
        write_disposition="merge",
        columns=merge_columns,  # beside the contract's types, which the Arrow pages carry
    )


def _without_deleted(page: pa.Table, deleted_by: list[str]) -> pa.Table:
    """The page's records that no hard-delete column (`is_deleted`) marks as deleted: what
    the merge would have left of them in a new table."""
    for column in deleted_by:
        page = page.filter(pc.invert(pc.fill_null(page.column(column), False)))
    return page


def _first(refused: set[tuple[str, str]], contract: Contract, record: dict[str, Any]) -> bool:
    seen = ("|".join(str(record.get(k)) for k in contract.key), repr(sorted(record.items())))
    if seen in refused:
        return False
    refused.add(seen)
    return True


def checked(paginator: BasePaginator, check_page: Any) -> BasePaginator:
    """The paginator sees every page after its HTTP status is checked and before its
    records are yielded. Prefer the check as a response hook (`api_resource` does): the
    paginator sees a page only after the client parsed it, so a cut page is reported
    by the JSON decoder, not by the check, which names it."""
    base = type(paginator)

    def update_state(self: BasePaginator, response: Response, data: Any = None) -> None:
        check_page(response)
        base.update_state(self, response, data)

    paginator.__class__ = type(f"Checked{base.__name__}", (base,), {"update_state": update_state})
    return paginator
