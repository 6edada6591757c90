"""Shipping addresses against the administrative units in force.

Vietnam went from 63 provinces, 696 districts and 10,051 wards to 34 provinces and 3,321 wards,
with no district level, on 1 July 2025; platforms send both shapes. A Vietnamese address is
resolved to the province and ward in force (names and codes), and what the platform sent stays
in `received`. Other countries' addresses are kept as they came.

- `resolved(address)`: the canonical copy, applied by every channel parser;
- `problems(address)`: why it cannot ship as it stands (the order's hold reasons);
- `corrected(address, fields)`: the operator's correction, resolved the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from services.orders.domain.addresses.resolver import Outcome, read_locality, resolve
from services.orders.domain.addresses.units import load
from services.orders.domain.contacts import normalise_phone
from services.orders.domain.errors import InvalidOrderPayload
from services.orders.domain.model import Address, AdminCodes, ReceivedLocality

__all__ = ["corrected", "load", "problems", "resolved"]

VIETNAM = "VN"


def _outcome(address: Address) -> Outcome:
    units = load()
    where = read_locality(
        units, address.province, address.district, address.ward, address.city, address.line2
    )
    return resolve(units, where)


def resolved(address: Address) -> Address:
    """`address` with its Vietnamese province and ward in force, the platform's own fields kept
    in `received`. When they cannot be decided, the fields stay as they came (the province in
    force replaces an old one when it is known) for the operator to correct. Resolving a
    resolved address changes nothing."""
    if address.country != VIETNAM:
        return address
    outcome = _outcome(address)
    received = address.received or ReceivedLocality(
        ward=address.ward, district=address.district, province=address.province
    )
    province = outcome.province
    if outcome.problem is not None or province is None:
        update = {"province": province.short} if province else {}
        return address.model_copy(update=update | {"admin_codes": None, "received": received})
    codes = AdminCodes(
        scheme=load().scheme,
        province=f"{province.code:02d}",
        ward=f"{outcome.ward.code:05d}" if outcome.ward else None,
    )
    return address.model_copy(
        update={
            "province": province.short,
            "district": None,  # no district level since 1 July 2025
            "ward": outcome.ward.name if outcome.ward else None,
            "admin_codes": codes,
            "received": received,
        }
    )


def problems(address: Address | None) -> list[str]:
    """Why an order cannot ship to `address` as it stands, each naming the part missing,
    unknown or ambiguous (empty when it can)."""
    if address is None:
        return ["address_unusable: no shipping address"]
    found = [] if address.line1 else ["address_unusable: line1 missing"]
    if address.country == VIETNAM:
        problem = _outcome(address).problem
        return ([problem] if problem else []) + found
    if not address.province:
        return ["address_unusable: province missing", *found]
    return found


def corrected(address: Address | None, fields: Mapping[str, str | None]) -> Address:
    """`address` with the operator's `fields` (province, ward, line1, ...), resolved. A ward
    given without a district is a ward in force: the old district the address had is dropped."""
    given = {k: v for k, v in fields.items() if v is not None}
    base: dict[str, Any] = address.model_dump() if address else {"country": VIETNAM}
    if "ward" in given and "district" not in given:
        base["district"] = None
    if "phone" in given:  # typed as the operator reads it: 0912 345 678, +84 912-345-678
        phone = normalise_phone(given["phone"], base.get("country") or VIETNAM)
        if phone is None:
            raise InvalidOrderPayload(f"phone {given['phone']!r} is not a phone number")
        given["phone"] = phone
    try:
        return resolved(Address.model_validate(base | given))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidOrderPayload(f"address: {problems}") from None
