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


def number_money(raw: object, field: str, currency: str, *, default: int | None = None) -> int:
    """Money a platform sends as a JSON number (WooCommerce line prices, Shopee, Tiki) or as a
    decimal string. A float is read through its shortest repr ("12.5"), never its binary value."""
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise InvalidOrderPayload(f"{field}: {raw!r} is not a number")
        raw = repr(raw)
        if "e" in raw or "E" in raw:
            raise InvalidOrderPayload(f"{field}: {raw} is out of range")
    value = money_field(raw, field, currency, default=default)
    if value < 0:
        raise InvalidOrderPayload(f"{field} must not be negative")
    return value


def id_field(raw: object, field: str) -> str:
    """A platform id as a string: JSON integers (even over 2^53) or non-empty strings."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return str(raw)
    if isinstance(raw, str) and raw.strip() and len(raw.strip()) <= 64:
        return raw.strip()
    raise InvalidOrderPayload(f"{field} must be an id (string or positive integer), got {raw!r}")


def int_field(raw: object, field: str, *, minimum: int = 0, maximum: int = 10**9) -> int:
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int) or isinstance(raw, bool) or not minimum <= raw <= maximum:
        raise InvalidOrderPayload(f"{field} must be an integer in [{minimum}, {maximum}]")
    return raw


def unix_time(raw: object, field: str) -> datetime:
    """Unix seconds (Shopee, TikTok, Lazada's status_update_time) as an aware UTC time."""
    from datetime import UTC

    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 < raw < 10**11:
        raise InvalidOrderPayload(f"{field} must be unix seconds, got {raw!r}")
    return datetime.fromtimestamp(raw, UTC)


def local_time(raw: object, field: str, offset_hours: int) -> datetime:
    """`YYYY-MM-DD HH:MM:SS` (optionally with an offset) read in the platform's zone when it has
    none (Tiki: Vietnam time; WooCommerce *_gmt: UTC)."""
    from datetime import timedelta, timezone

    try:
        value = datetime.fromisoformat(raw.strip()) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None:
        raise InvalidOrderPayload(f"{field} must be a date and time, got {raw!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone(timedelta(hours=offset_hours)))
    return value


def list_field(parent: Json, key: str) -> list[Json]:
    value = parent.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def text(value: object) -> str | None:
    """A string value as stripped text, numbers included (some platforms send ids as numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str):
        return str(value).strip() or None
    return None
