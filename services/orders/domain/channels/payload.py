"""Reading fields out of a platform's JSON, with errors that name the offending field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.orders.domain.errors import InvalidMoney, InvalidOrderPayload
from services.orders.domain.money import to_minor_units

Json = Mapping[str, Any]


def money_field(raw: object, field: str, currency: str, *, default: int | None = None) -> int:
    """`raw` in minor units; `default` when it is absent, or an error naming `field` if required."""
    if raw is None:
        if default is None:
            raise InvalidOrderPayload(f"{field} is missing")
        return default
    try:
        return to_minor_units(raw, currency)  # type: ignore[arg-type]  # it checks the type itself
    except InvalidMoney as exc:
        raise InvalidOrderPayload(f"{field}: {exc}") from None


def timestamp_field(payload: Json, field: str) -> datetime:
    """An ISO 8601 time with an offset; a naive time is refused because its zone is a guess."""
    raw = payload.get(field)
    try:
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InvalidOrderPayload(f"{field} must be an ISO 8601 time with an offset, got {raw!r}")
    return value


def object_field(parent: Json, key: str) -> Json:
    """The nested object at `key`, or an empty one when absent or not an object (tolerance)."""
    value = parent.get(key)
    return value if isinstance(value, Mapping) else {}
