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

import json
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.configuration import configspec
from dlt.common.libs.pyarrow import py_arrow_to_table_schema_columns
from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client.auth import AuthConfigBase
from requests import PreparedRequest, Response, Session

QUARANTINE = "quarantine"
_NAMING = NamingConvention()


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
    """Counts the responses a source retried (429 and 5xx): asset metadata shows them."""

    RETRIED = frozenset({429, 500, 502, 503, 504})

    def __init__(self) -> None:
        self.retries = 0

    def session(self) -> Session:
        """dlt's retrying session (runtime.request_max_attempts, request_backoff_factor),
        with a hook that sees every attempt."""
        session = Client(raise_for_status=False).session
        session.hooks["response"].append(self._count)
        return session

    def _count(self, response: Response, *args: Any, **kwargs: Any) -> Response:
        if response.status_code in self.RETRIED:
            self.retries += 1
        return response


def page_holds(*paths: tuple[str, type]) -> Callable[..., Response]:
    """A page check: the page parses as JSON and each (field, type) is present."""

    def check(response: Response, *args: Any, **kwargs: Any) -> Response:
        try:
            body = response.json()
        except ValueError as error:
            raise MalformedPage(
                f"{response.url}: page of {len(response.content)} bytes is not valid JSON"
                f" (truncated?): {error}"
            ) from error
        for path, kind in paths:
            value: Any = body
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if not isinstance(value, kind):
                raise MalformedPage(
                    f"{response.url}: page has no {kind.__name__} at {path!r}: {str(body)[:200]}"
                )
        return response

    return check


# ---------------------------------------------------------------- the contract, row by row


def snake_case(name: str) -> str:
    """A vendor field's warehouse column name, as `ingest.resources.snake_case` names files'."""
    return _NAMING.normalize_identifier(name)


def contract_columns(schema: pa.Schema) -> dict[str, dict[str, Any]]:
    """dlt column hints of a contract schema, under warehouse (snake_case) names:
    JSON carries amounts and dates as text, the raw table keeps the types the
    bulk files give it."""
    renamed = pa.schema([f.with_name(snake_case(f.name)) for f in schema])
    return py_arrow_to_table_schema_columns(renamed)


def _type_error(value: Any, kind: pa.DataType) -> str | None:
    try:
        if pa.types.is_decimal(kind):
            if isinstance(value, bool) or not Decimal(str(value)).is_finite():
                return "not a decimal"
        elif pa.types.is_timestamp(kind):
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        elif pa.types.is_date(kind):
            date.fromisoformat(str(value))
        elif pa.types.is_integer(kind):
            if isinstance(value, bool) or int(value) != value:
                return "not an integer"
        elif pa.types.is_boolean(kind):
            if not isinstance(value, bool):
                return "not a boolean"
        elif pa.types.is_string(kind) and not isinstance(value, str):
            return "not a string"
    except (ValueError, TypeError, InvalidOperation):
        return f"not a {kind}"
    return None


class Contract:
    """Routes each record: to its table if it keeps the contract, else to quarantine."""

    def __init__(
        self, system: str, resource: str, schema: pa.Schema, key: list[str], cursor: str
    ) -> None:
        self.system, self.resource, self.schema = system, resource, schema
        self.key, self.cursor = key, cursor
        self.required = [*key, cursor]
        self.columns = contract_columns(schema)
        self.primary_key = [snake_case(k) for k in key]

    def reason(self, record: dict[str, Any]) -> str | None:
        missing = [name for name in self.required if record.get(name) is None]
        if missing:
            return f"missing required field(s) {missing}"
        for field in self.schema:
            value = record.get(field.name)
            if value is not None and (error := _type_error(value, field.type)):
                return f"{field.name}={str(value)[:40]!r}: {error}"
        return None

    def quarantine_row(self, record: dict[str, Any], reason: str) -> dict[str, Any]:
        return {
            "source_system": self.system,
            "resource": self.resource,
            "record_key": "|".join(str(record.get(k)) for k in self.key),
            "reason": reason,
            "payload": json.dumps(record, default=str),
            # the incremental cursor reads this field on every row it sees
            snake_case(self.cursor): record.get(self.cursor),
        }


QUARANTINE_HINTS = dlt.mark.make_hints(
    table_name=QUARANTINE, write_disposition="append", primary_key=(), columns={}
)
