"""Turning what an operator typed (an admin API body, a CSV row) into producers, products and
listings, or into errors that name the field. Pure: the database checks (duplicates against
stored data, unknown producers) are the importer's and the API's."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.contracts.identifiers import Identifier
from shared.contracts.platforms import PlatformInput
from shared.phones import normalise_phone

from .model import Producer, Product

# ISO 4217 minor-unit exponents of the currencies our producers sell in; others default to 2.
MINOR_UNITS = {"VND": 0, "JPY": 0, "KRW": 0, "IDR": 2, "THB": 2, "PHP": 2, "USD": 2, "EUR": 2}


class FieldError(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    message: str


class IntakeError(ValueError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class Listing(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: PlatformInput
    account: Identifier
    channel_sku: Identifier
    sku: Identifier


def field_errors(exc: ValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        message = str(err.get("msg", "invalid"))
        errors.append(FieldError(field=where, message=message.removeprefix("Value error, ")))
    return errors


def producer_from(data: Mapping[str, Any]) -> Producer:
    """A producer from a JSON body, its phone normalised to E.164 in its country's plan."""
    body = dict(data)
    raw = body.get("phone")
    if isinstance(raw, str):
        phone = normalise_phone(raw, str(body.get("country") or "VN"))
        if phone is None:
            raise IntakeError([FieldError(field="phone", message=f"not a valid phone: {raw!r}")])
        body["phone"] = phone
    return _validate(Producer, body)


def product_from(data: Mapping[str, Any]) -> Product:
    return _validate(Product, data)


def listing_from(data: Mapping[str, Any]) -> Listing:
    return _validate(Listing, data)


def stock_from(value: Any, field: str = "stock") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise IntakeError([FieldError(field=field, message=f"not a whole number: {value!r}")])
    if value < 0:
        raise IntakeError([FieldError(field=field, message=f"must be >= 0, got {value}")])
    return value


def _validate(model: type[Any], data: Mapping[str, Any]) -> Any:
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise IntakeError(field_errors(exc)) from exc


# CSV: every cell is text; empty optional cells mean "not given".


def producer_from_csv(row: Mapping[str, str]) -> Producer:
    cell = _cells(row)
    country = (cell("country") or "VN").upper()
    sms_language = cell("sms_language") or ("vi" if country == "VN" else "en")
    body: dict[str, Any] = {
        "producer_id": _id(cell("producer_id")),
        "name": cell("name"),
        "kind": cell("kind") or "household",
        "village": cell("village"),
        "ward": cell("ward"),
        "district": cell("district"),
        "province": cell("province"),
        "country": country,
        "lat": _number(cell("lat"), "lat"),
        "lon": _number(cell("lon"), "lon"),
        "pickup_notes": cell("pickup_notes") or "",
        "phone": cell("phone"),
        "languages": _list(cell("languages")) or [sms_language],
        "sms_language": sms_language,
        "sms_diacritics": _flag(cell("sms_diacritics"), "sms_diacritics"),
        "programme": cell("programme"),
        "stars": _whole(cell("stars"), "stars"),
        "certifications": _list(cell("certifications")),
    }
    if cell("story_vi") or cell("story_en"):
        body["story"] = {"vi": cell("story_vi"), "en": cell("story_en")}
    return producer_from(body)


def product_from_csv(row: Mapping[str, str]) -> tuple[Product, int]:
    """A product and its initial stock from a CSV row."""
    cell = _cells(row)
    currency = (cell("currency") or "").upper()
    name = cell("name")
    body: dict[str, Any] = {
        "sku": _id(cell("sku")),
        "producer_id": _id(cell("producer_id")),
        "names": {"vi": cell("name_vi") or name, "en": cell("name_en") or name},
        "price": _price(cell("price"), currency),
        "currency": currency,
        "weight_g": _whole(cell("weight_g"), "weight_g"),
        "volume_ml": _whole(cell("volume_ml"), "volume_ml"),
        "perishable": _flag(cell("perishable"), "perishable"),
        "shelf_life_days": _whole(cell("shelf_life_days"), "shelf_life_days"),
        "low_stock_threshold": _whole(cell("low_stock_threshold"), "low_stock_threshold"),
    }
    if cell("description_vi") or cell("description_en"):
        body["descriptions"] = {"vi": cell("description_vi"), "en": cell("description_en")}
    if cell("origin") or cell("materials") or cell("process"):
        body["story"] = {
            "origin": cell("origin"),
            "materials": _list(cell("materials")),
            "process": _list(cell("process")),
            "photos": _list(cell("photos")),
        }
    stock = _whole(cell("stock"), "stock")
    product = product_from(body)
    if stock is None:
        raise IntakeError([FieldError(field="stock", message="required")])
    return product, stock_from(stock)


def listing_from_csv(row: Mapping[str, str]) -> Listing:
    cell = _cells(row)
    return listing_from({k: _id(cell(k)) for k in ("channel", "account", "channel_sku", "sku")})


def to_minor_units(amount: str, currency: str) -> int:
    """"450000" VND -> 450000; "450.50" THB -> 45050. Refuses more decimals than the currency."""
    try:
        value = Decimal(amount.replace(",", "").replace("_", ""))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {amount!r}") from exc
    exponent = MINOR_UNITS.get(currency, 2)
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount!r} has more decimals than {currency or 'the currency'} allows")
    if minor < 0:
        raise ValueError(f"must be >= 0, got {amount}")
    return int(minor)


def _cells(row: Mapping[str, str]):
    def cell(name: str) -> str | None:
        value = row.get(name)
        value = value.strip() if isinstance(value, str) else None
        return value or None

    return cell


def _id(value: str | None) -> str:
    """An empty id cell is an empty id (refused as such), not a missing value."""
    return value or ""


def _list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _number(value: str | None, field: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise IntakeError([FieldError(field=field, message=f"not a number: {value!r}")]) from None


def _whole(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise IntakeError(
            [FieldError(field=field, message=f"not a whole number: {value!r}")]
        ) from None


def _flag(value: str | None, field: str) -> bool:
    if value is None:
        return False
    if value.lower() in {"1", "true", "yes", "y"}:
        return True
    if value.lower() in {"0", "false", "no", "n"}:
        return False
    raise IntakeError([FieldError(field=field, message=f"not yes/no: {value!r}")])


def _price(value: str | None, currency: str) -> int | None:
    if value is None:
        return None
    try:
        return to_minor_units(value, currency)
    except ValueError as exc:
        raise IntakeError([FieldError(field="price", message=str(exc))]) from None
