"""What the four REST API sources share: OAuth2 client credentials, retries that are
counted, pages that must hold what they promise, and rows checked against the
extract contract on the way in.

- Credentials are read from dlt config/secrets (`sources.<system>.client_id`,
  `client_secret`; env `SOURCES__<SYSTEM>__CLIENT_SECRET`) when the first token is
  needed, so definitions load without them and no literal or log line holds them.
- A page that is not the JSON its vendor promises (cut off, or an envelope without
  its records) raises `MalformedPage`: the extract fails, nothing is committed, and
  the incremental cursor stays where it was.
- A row with a missing required field or a value of the wrong type goes to the
  system's `quarantine` table with its key, the reason and the payload; a new
  column is schema drift that dlt adds to the raw table.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import dlt
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from dlt.common.configuration import configspec
from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client.auth import AuthConfigBase
from requests import PreparedRequest, Response, Session
from requests.adapters import HTTPAdapter
from requests.exceptions import ConnectionError, Timeout  # noqa: A004 (requests' own)

QUARANTINE = "quarantine"
_NAMING = NamingConvention()

Fetched = TypeVar("Fetched")


class MalformedPage(RuntimeError):
    """A page of an API response that cannot be trusted; the load stops before it commits."""


@configspec
class ClientCredentials(AuthConfigBase):
    """OAuth2 client-credentials grant; the token is fetched lazily and renewed before expiry."""

    token_url: str = None
    system: str = None

    def __post_init__(self) -> None:
        self._token: str | None = None
        self._expires = 0.0

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._bearer()}"
        return request

    def _bearer(self) -> str:
        if self._token is None or time.monotonic() > self._expires - 60:
            section = f"sources.{self.system}"
            response = Client(raise_for_status=True).session.post(
                self.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": dlt.secrets[f"{section}.client_id"],
                    "client_secret": dlt.secrets[f"{section}.client_secret"],
                },
            )
            body = response.json()
            self._token = body["access_token"]
            self._expires = time.monotonic() + float(body.get("expires_in", 300))
        return self._token


class RequestLog:
    """Counts the attempts a source retried (429, 5xx, a dropped connection): asset
    metadata shows them. Counted under a lock: a bulk export's next page is fetched on a
    thread of its own (ingest/crm.py)."""

    RETRIED = frozenset({429, 500, 502, 503, 504})

    def __init__(self) -> None:
        self.retries = 0
        self._lock = threading.Lock()

    def retried(self) -> None:
        with self._lock:
            self.retries += 1

    def session(self) -> Session:
        """dlt's retrying session (runtime.request_max_attempts, request_backoff_factor,
        Retry-After respected). The count sits in the transport adapter, inside the retry
        loop, where every attempt passes, the failed connections too."""
        client = Client(raise_for_status=False)
        client.configure()  # the runtime section of dlt config: attempts, backoff, timeout
        session = client.session
        adapter = _CountingAdapter(self)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session


class _CountingAdapter(HTTPAdapter):
    def __init__(self, log: RequestLog) -> None:
        super().__init__()
        self.log = log

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        try:
            response = super().send(request, *args, **kwargs)
        except (ConnectionError, Timeout):
            self.log.retried()
            raise
        if response.status_code in self.log.RETRIED:
            self.log.retried()
        response.json = _parsed_once(response)  # type: ignore[method-assign]
        return response


def _parsed_once(response: Response) -> Callable[..., Any]:
    """`response.json()` parsed on first use and shared: the page check, the REST client's
    record selector and its paginator each read the body, and a page of a thousand records
    takes longer to parse than to fetch. orjson, dlt's own parser, is ~5x simplejson.
    The response is held weakly: a cycle would keep a retried response, and its socket,
    open until the garbage collector runs."""
    parsed: list[Any] = []
    held = weakref.ref(response)

    def json(**kwargs: Any) -> Any:
        if not parsed:
            parsed.append(orjson.loads(held().content))
        return parsed[0]

    return json


def raise_for_status(response: Response, *args: Any, **kwargs: Any) -> Response:
    """A failed request raises (and is retried where dlt retries its status)."""
    response.raise_for_status()
    return response


class IncompleteExtract(RuntimeError):
    """Fewer distinct records arrived than the API said match: the load stops before it
    commits rather than lose the rest silently (a server capping a page below the
    client's limit, a cursor that moved between pages)."""


def field_at(body: Any, path: str) -> Any:
    """The value at a dotted path of a JSON body, or None."""
    for part in path.split("."):
        body = body.get(part) if isinstance(body, dict) else None
    return body


def page_holds(*paths: tuple[str, type]) -> Callable[..., Response]:
    """A page check, a response hook: the page parses as JSON and each (field, type) is
    present. It runs before the REST client parses the page, so a cut page is named as
    such, with its URL, rather than as a JSON decoder's complaint."""

    def check(response: Response, *args: Any, **kwargs: Any) -> Response:
        try:
            body = response.json()
        except ValueError as error:
            raise MalformedPage(
                f"{response.url}: page of {len(response.content)} bytes is not valid JSON"
                f" (truncated?): {error}"
            ) from error
        for path, kind in paths:
            value = field_at(body, path)
            if not isinstance(value, kind):
                raise MalformedPage(
                    f"{response.url}: page has no {kind.__name__} at {path!r}: {str(body)[:200]}"
                )
        return response

    return check


# ---------------------------------------------------------------- the contract, page by page


def snake_case(name: str) -> str:
    """A vendor field's warehouse column name, as `ingest.resources.snake_case` names files'."""
    return _NAMING.normalize_identifier(name)


class NotOfType(ValueError):
    """A JSON value that does not convert to its contract type."""


def typed(values: list[Any] | pa.Array, kind: pa.DataType, text: bool = False) -> pa.Array:
    """JSON values (or the array Arrow inferred from them) as one Arrow array of the
    contract's type, or `NotOfType`.

    Arrow infers what JSON gave (text, integer, boolean) and casts it safely: a
    number where text is due, a fraction where an integer is due, an amount with
    more decimals than its column holds or a timestamp without zone all fail.
    With `text` the values are a CSV's, all text: Arrow parses them to the type, with
    the same refusals (`12.5` for an integer, `12.345` for an amount, no zone)."""
    try:
        raw = values if isinstance(values, pa.Array) else pa.array(values)
        if pa.types.is_null(raw.type):
            return pa.nulls(len(values), kind)
        given = raw.type
        if text and pa.types.is_string(given):
            fits = True  # parsed by the cast below
        elif pa.types.is_string(kind) or pa.types.is_temporal(kind):
            fits = pa.types.is_string(given)
        elif pa.types.is_decimal(kind):
            fits = pa.types.is_string(given) or pa.types.is_integer(given)
            raw = raw.cast(pa.string())
        elif pa.types.is_integer(kind):
            fits = pa.types.is_integer(given)
        elif pa.types.is_boolean(kind):
            fits = pa.types.is_boolean(given)
        else:
            fits = True
        if not fits:
            raise NotOfType(f"not a {kind} (JSON {given})")
        return pc.cast(raw, kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
        raise NotOfType(str(error).split("\n")[0]) from error


def _any(values: list[Any]) -> pa.Array:
    """A column the contract does not know (schema drift): as JSON gave it, else as text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else json.dumps(v, default=str) for v in values])


def columns_of(page: list[dict[str, Any]]) -> dict[str, pa.Array] | None:
    """The page's fields as Arrow arrays, in one pass in Arrow's C++ (a struct per record),
    or None where the page is not that regular (a field of mixed JSON types): the caller
    then reads the page record by record."""
    try:
        rows = pa.array(page)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if not pa.types.is_struct(rows.type) or rows.null_count:
        return None
    return {field.name: rows.field(i) for i, field in enumerate(rows.type)}


def joined_keys(arrays: list[pa.Array]) -> list[str]:
    """Each row's key as `Contract.key_of` spells it: values as text joined by `|`, None
    for a missing value."""
    text = [pc.fill_null(a.cast(pa.string()), str(None)) for a in arrays]
    return (text[0] if len(text) == 1 else pc.binary_join_element_wise(*text, "|")).to_pylist()


class Contract:
    """Splits each page: rows that keep the contract as one typed Arrow table, the
    others as (record, reason) for quarantine.

    Column by column, not row by row: a page converts in a few Arrow casts, and only a
    column that fails is checked value by value to find the rows to refuse. Fields in
    `drop` (a vendor's envelope per record) are neither loaded nor quarantined. With
    `text`, pages are CSV (every value text, parsed to its type: see `typed`)."""

    def __init__(
        self,
        system: str,
        resource: str,
        schema: pa.Schema,
        key: list[str],
        cursor: str,
        drop: tuple[str, ...] = (),
        text: bool = False,
    ) -> None:
        self.system, self.resource, self.schema = system, resource, schema
        self.key, self.cursor, self.drop, self.text = key, cursor, drop, text
        self.required = [*key, cursor]
        self.primary_key = [snake_case(k) for k in key]
        self.cursor_type = schema.field(cursor).type

    def split(
        self,
        page: list[dict[str, Any]],
        columns: dict[str, pa.Array] | None = None,
        skip: set[int] | frozenset[int] = frozenset(),
    ) -> tuple[pa.Table, list[tuple[dict[str, Any], str]]]:
        """`columns` are the page's as `columns_of` gives them (None: read record by
        record); the rows in `skip` are left out of both results."""
        reasons: dict[int, str] = {}
        arrays: dict[str, pa.Array] = {}
        for field in self.schema:
            if columns is None:
                values: list[Any] | pa.Array = [record.get(field.name) for record in page]
            else:
                values = columns.get(field.name, pa.nulls(len(page)))
            try:
                arrays[field.name] = typed(values, field.type, self.text)
            except NotOfType:
                if isinstance(values, pa.Array):
                    values = values.to_pylist()
                arrays[field.name] = self._refuse(values, field, reasons)
        missing = functools.reduce(pc.or_, (pc.is_null(arrays[n]) for n in self.required))
        for row in pc.indices_nonzero(missing).to_pylist():
            absent = [name for name in self.required if page[row].get(name) is None]
            if absent:  # else a wrong type, refused above
                reasons[row] = f"missing required field(s) {absent}"
        known = {*self.schema.names, *self.drop}
        if columns is None:
            names = dict.fromkeys(k for r in page for k in r)
            drift = {n: _any([r.get(n) for r in page]) for n in names if n not in known}
        else:
            drift = {n: a for n, a in columns.items() if n not in known}  # as `_any` infers
        arrays |= drift
        table = pa.table({snake_case(name): array for name, array in arrays.items()})
        if reasons or skip:
            keep = pa.array([row not in reasons and row not in skip for row in range(len(page))])
            table = table.filter(keep)
        # keys are present now: declared so, as the bulk files' are, so both concatenate
        fields = [f.with_nullable(f.name not in self.primary_key) for f in table.schema]
        return table.cast(pa.schema(fields)), [
            ({k: v for k, v in page[row].items() if k not in self.drop}, reason)
            for row, reason in sorted(reasons.items())
            if row not in skip
        ]

    def keys(
        self, page: list[dict[str, Any]], columns: dict[str, pa.Array] | None = None
    ) -> tuple[list[str], int]:
        """The keys of the page's records that have their whole key, and how many have not."""
        arrays = self._key_columns(columns)
        if arrays is None:
            keyed = [r for r in page if all(r.get(k) is not None for k in self.key)]
            return [self.key_of(r) for r in keyed], len(page) - len(keyed)
        whole = functools.reduce(pc.and_, (pc.is_valid(a) for a in arrays))
        joined = joined_keys([a.filter(whole) for a in arrays])
        return joined, len(page) - len(joined)

    def _refuse(self, values: list[Any], field: pa.Field, reasons: dict[int, str]) -> pa.Array:
        """The column with its unconvertible values as null; each such row gets its reason."""
        kept = []
        for row, value in enumerate(values):
            try:
                typed([value], field.type, self.text)
                kept.append(value)
            except NotOfType as error:
                reasons.setdefault(row, f"{field.name}={str(value)[:40]!r}: {error}")
                kept.append(None)
        return typed(kept, field.type, self.text)

    def key_of(self, record: dict[str, Any]) -> str:
        return "|".join(str(record.get(k)) for k in self.key)

    def keys_of(
        self, page: Sequence[dict[str, Any]], columns: dict[str, pa.Array] | None, rows: list[int]
    ) -> list[str]:
        """`key_of` the page's records at `rows`, joined in Arrow where `keys` would: a bulk
        page's rows at its latest change can be all of it (scale 10, payroll's and FP&A's
        first loads: 0.8 s record by record)."""
        arrays = self._key_columns(columns)
        if arrays is None:
            return [self.key_of(page[row]) for row in rows]
        taken = pa.array(rows, pa.int64())
        return joined_keys([a.take(taken) for a in arrays])

    def _key_columns(self, columns: dict[str, pa.Array] | None) -> list[pa.Array] | None:
        """The page's key columns where Arrow can spell them as `key_of` does (text or
        integers), else None: the records are read one by one."""
        arrays = [columns.get(k) for k in self.key] if columns is not None else [None]
        if all(
            a is not None and (pa.types.is_string(a.type) or pa.types.is_integer(a.type))
            for a in arrays
        ):
            return arrays
        return None

    def cursors(
        self, page: list[dict[str, Any]], columns: dict[str, pa.Array] | None = None
    ) -> pa.Array:
        """Each record's last change, null where it is not a valid one."""
        if columns is not None and self.cursor in columns:
            try:
                return typed(columns[self.cursor], self.cursor_type, self.text)
            except NotOfType:
                pass
        values = [record.get(self.cursor) for record in page]
        try:
            return typed(values, self.cursor_type, self.text)
        except NotOfType:
            return self._refuse(values, self.schema.field(self.cursor), {})

    def quarantine(self, refused: list[tuple[dict[str, Any], str]]) -> pa.Table:
        """Refused records with key, reason and payload; the cursor column is the record's
        valid last change (or null), so quarantined records move the cursor like loaded ones."""
        return pa.table(
            {
                "source_system": pa.array([self.system] * len(refused), pa.string()),
                "resource": pa.array([self.resource] * len(refused), pa.string()),
                "record_key": pa.array([self.key_of(r) for r, _ in refused], pa.string()),
                "reason": pa.array([reason for _, reason in refused], pa.string()),
                "payload": pa.array(
                    [json.dumps(r, default=str, sort_keys=True) for r, _ in refused], pa.string()
                ),
                snake_case(self.cursor): self.cursors([r for r, _ in refused]),
            }
        )


def asked_again(fetch: Callable[[], Fetched], attempts: int, log: RequestLog) -> Fetched:
    """`fetch()`, asked again while what it gets is cut short or malformed
    (`MalformedPage`), `attempts` times in all, each new ask counted as a retry; then the
    last `MalformedPage` is raised and the load stops before it commits. A bulk export's
    page or report is whole or not at all: the vendor keeps it to be read again."""
    for attempt in range(1, attempts + 1):
        try:
            return fetch()
        except MalformedPage:
            if attempt == attempts:
                raise
            log.retried()
    raise ValueError(f"attempts must be at least 1, not {attempts}")


def csv_text(response: Response) -> pa.Table:
    """A CSV response as a table of text, one column per field (an empty field is null),
    parsed by Arrow; `MalformedPage` where it is not CSV or does not parse (cut short)."""
    kind, content = response.headers.get("Content-Type", ""), response.content
    if not kind.startswith("text/csv"):
        raise MalformedPage(f"{response.url}: not CSV ({kind!r}, {len(content)} bytes)")
    first_line = content.split(b"\n", 1)[0].decode(errors="replace")
    header = next(csv.reader(io.StringIO(first_line)), [])
    try:
        return pa_csv.read_csv(
            io.BytesIO(content),
            read_options=pa_csv.ReadOptions(use_threads=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid as error:
        raise MalformedPage(
            f"{response.url}: CSV of {len(content)} bytes does not parse (truncated?): "
            f"{str(error).splitlines()[0]}"
        ) from error


class TableRows(Sequence[dict[str, Any]]):
    """A page read as an Arrow table (a CSV page), seen as the list of records a JSON page
    is: the contract reads its columns, and turns into a record only a row it refuses or
    needs the key of (at the high-water mark), not every row."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __len__(self) -> int:
        return self.table.num_rows

    def __getitem__(self, row: int) -> dict[str, Any]:  # type: ignore[override]
        if not -len(self) <= row < len(self):
            raise IndexError(row)
        return self.table.slice(row % len(self), 1).to_pylist()[0]

    def columns(self) -> dict[str, pa.Array]:
        return {
            name: column.combine_chunks()
            for name, column in zip(self.table.column_names, self.table.columns, strict=True)
        }


QUARANTINE_HINTS = dlt.mark.make_hints(
    table_name=QUARANTINE, write_disposition="append", primary_key=(), columns={}
)
