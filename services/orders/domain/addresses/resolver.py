"""Which province and ward in force a Vietnamese address means, whether it came in the old three
levels (province, district, ward) or the new two (province, ward).

Old units are mapped through the official table of wards, and the province in force is the one
of the ward found, never taken from the old province's name alone when a ward is given. A ward
that split into several can only be placed by geocoding its street, so it is reported with the
candidates for the operator to choose, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.orders.domain.addresses import names
from services.orders.domain.addresses.units import Unit, Units

_MAX_LISTED = 6  # candidates named in a problem; past that, how many more


@dataclass(frozen=True)
class Locality:
    """The address's place names as written, each from its field or read out of the platform's
    locality line."""

    province: str | None = None
    district: str | None = None
    ward: str | None = None
    # The ward was read from the street's second line, which is free text ("Tầng 2", a
    # building): a name not found there is no reason to hold the order.
    ward_in_street: bool = False


@dataclass(frozen=True)
class Outcome:
    province: Unit | None = None  # in force; known even when the ward is not
    ward: Unit | None = None  # in force
    problem: str | None = None  # why the order cannot ship as it stands


def read_locality(
    units: Units,
    province: str | None,
    district: str | None,
    ward: str | None,
    city: str | None,
    line2: str | None,
) -> Locality:
    """Fill what the structured fields lack from the locality line (`city`). Platforms without
    Vietnamese fields carry the province there ("Hà Nội") or the ward and, on old addresses, the
    district ("Phường Bến Nghé, Quận 1"); the line is read for the ward only when no field
    holds one. Failing that, a part of the second street line that spells out its type
    ("Phường Ba Đình", "Ba Dinh District", never "P. 302", a room) is taken too."""
    from_line = ward is None
    for part in _parts(city):
        kind = _kind_of(units, part)
        if kind == "province":
            province = province or part
        elif from_line and kind == "district":
            district = district or part
        elif from_line:
            ward = ward or part
    in_street = False
    for part in _parts(line2) if ward is None else ():
        spelled = names.read(part).kind
        if spelled in names.SPELLED_WARD_WORDS:
            ward, in_street = ward or part, True
        elif spelled in names.SPELLED_DISTRICT_WORDS:
            district = district or part
    return Locality(province, district, ward, in_street)


def _parts(line: str | None) -> list[str]:
    return [part.strip() for part in (line or "").split(",") if part.strip()]


def _kind_of(units: Units, text: str) -> str:
    name = names.read(text)
    if name.kind in names.DISTRICT_WORDS:
        return "district"
    if name.kind in names.WARD_WORDS:
        return "ward"
    if units.province_names.find([0], text) or units.old_province_names.find([0], text):
        return "province"
    # "TP. Thủ Đức" was a city inside a province: a district before 2025.
    return "district" if name.kind in names.CITY_WORDS else "ward"


def resolve(units: Units, where: Locality) -> Outcome:
    if where.province is None:
        return Outcome(problem="address_unusable: province missing")
    named = units.province_names.find([0], where.province)
    named_old = units.old_province_names.find([0], where.province)
    if not named and not named_old:
        return Outcome(problem=f'address_unknown: province "{where.province}" not found')
    # Where the named province's wards are now, and where the wards of the province in force
    # named were before: either may be meant by an address written across the change.
    current = set(named).union(*(units.heirs.get(p, ()) for p in named_old))
    old = set(named_old).union(*(units.sources.get(p, ()) for p in named))
    province = units.provinces[next(iter(current))] if len(current) == 1 else None
    if where.ward is None:
        if province is None:
            return Outcome(problem=_province_split(units, where.province, current))
        return Outcome(province=province)
    wards, olds = _ward_candidates(units, where, current, old)
    if not wards and where.ward_in_street and province is not None:
        return Outcome(province=province)
    if len(wards) == 1:
        ward = units.wards[wards[0]]
        return Outcome(province=units.provinces[ward.parent], ward=ward)
    place = province.short if province else where.province
    if not wards:
        problem = f'address_unknown: ward "{where.ward}" not found in {place}'
        return Outcome(province, problem=problem)
    candidates = _listed(units.wards[w].name for w in wards)
    if len(olds) == 1:
        ward_before = units.old_wards[olds[0]]
        district = units.old_districts[ward_before.parent]
        problem = (
            f'address_ambiguous: old ward "{ward_before.name}, {district.name}" split into '
            f"{candidates}"
        )
    else:
        problem = f'address_ambiguous: ward "{where.ward}" could be {candidates} in {place}'
    return Outcome(province, problem=problem)


def _ward_candidates(
    units: Units, where: Locality, current: set[int], old: set[int]
) -> tuple[list[int], list[int]]:
    """The wards in force the address may mean, and the old wards they came through: by the old
    district and ward when it names a district, else by the name in force, else by an old
    ward's name anywhere in the old province."""
    assert where.ward is not None
    if where.district is not None:
        districts = units.old_district_names.find(sorted(old), where.district)
        olds = [
            w
            for d in districts
            for w in units.find_old_wards(units.old_districts[d].parent, d, where.ward)
        ]
        if olds:
            return _successors(units, olds), olds
    found = units.ward_names.find(sorted(current), where.ward)
    if found:
        return found, []
    olds = [w for p in sorted(old) for w in units.find_old_wards(p, None, where.ward)]
    return _successors(units, olds), olds


def _successors(units: Units, olds: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(w for old in olds for w in units.successors.get(old, ())))


def _listed(texts: Iterable[str]) -> str:
    items = sorted(set(texts))
    shown = ", ".join(f'"{n}"' for n in items[:_MAX_LISTED])
    return shown + (f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")


def _province_split(units: Units, text: str, current: set[int]) -> str:
    now = ", ".join(sorted(units.provinces[p].short for p in current))
    return f'address_ambiguous: old province "{text}" is now part of {now}; the ward decides'
