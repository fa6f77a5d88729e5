"""Query parsing and paging shared by the simulated APIs."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sandbox.api.service import Request

_OPS = {
    "eq": pc.equal,
    "ne": pc.not_equal,
    "gt": pc.greater,
    "ge": pc.greater_equal,
    "lt": pc.less,
    "le": pc.less_equal,
}
_SOQL_OPS = {"=": "eq", "!=": "ne", ">": "gt", ">=": "ge", "<": "lt", "<=": "le"}
_CONDITION = re.compile(r"^\s*(\w+)\s+(eq|ne|gt|ge|lt|le)\s+(.+?)\s*$")


def parse_timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise ValueError(f"not an ISO timestamp: {text!r}") from error


def _literal(text: str, kind: pa.DataType) -> Any:
    text = text.strip().strip("'")
    if pa.types.is_timestamp(kind):
        return parse_timestamp(text)
    if pa.types.is_date(kind):
        return date.fromisoformat(text)
    if pa.types.is_integer(kind):
        return int(text)
    return text


def where(table: pa.Table, conditions: list[tuple[str, str, str]]) -> pa.Table:
    """Rows matching every (field, op, literal) condition."""
    for name, op, text in conditions:
        if name not in table.column_names:
            raise ValueError(f"unknown field {name!r} in filter")
        kind = table.schema.field(name).type
        table = table.filter(_OPS[op](table[name], pa.scalar(_literal(text, kind), kind)))
    return table


def odata_filter(expression: str | None) -> list[tuple[str, str, str]]:
    """`$filter=LastChangeDateTime ge 2026-04-01T00:00:00Z and FiscalYear eq 2026`."""
    if not expression:
        return []
    out = []
    for part in re.split(r"\s+and\s+", expression.strip()):
        match = _CONDITION.match(part)
        if not match:
            raise ValueError(f"unsupported $filter term {part!r}")
        out.append(match.groups())
    return out


def soql_condition(text: str) -> tuple[str, str, str]:
    match = re.match(r"^\s*(\w+)\s*(>=|<=|!=|=|>|<)\s*(\S+)\s*$", text)
    if not match:
        raise ValueError(f"unsupported WHERE term {text!r}")
    name, op, value = match.groups()
    return name, _SOQL_OPS[op], value


def window(table: pa.Table, offset: int, limit: int, request: Request) -> pa.Table:
    """One page; a `duplicate` fault repeats the last records of the page before."""
    start = offset
    if request.fault and request.fault.kind == "duplicate" and offset > 0:
        start = max(0, offset - 3)
    return table.slice(start, offset + limit - start)


def int_param(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    try:
        value = int(request.query.get(name, default))
    except ValueError as error:
        raise ValueError(f"{name} must be an integer") from error
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return min(value, maximum) if maximum else value
