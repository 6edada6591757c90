"""Vietnam's administrative units, those in force since 1 July 2025 and those before, read once
from `vn_units.json.gz` (source and date in README.md beside it) and indexed by name in dicts."""

from __future__ import annotations

import functools
import gzip
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Final

from services.orders.domain.addresses import names

# Abbreviated type words -> the type word of the official names.
_KINDS: Final = {
    "p": "phường",
    "f": "phường",
    "ward": "phường",
    "x": "xã",
    "commune": "xã",
    "tt": "thị trấn",
    "q": "quận",
    "district": "quận",
    "h": "huyện",
    "tx": "thị xã",
    "tp": "thành phố",
    "city": "thành phố",
}
# Names of provinces that are not their official name, as compact plain keys.
_PROVINCE_ALIASES: Final = {
    "hcm": "Hồ Chí Minh",
    "hcmc": "Hồ Chí Minh",
    "tphcm": "Hồ Chí Minh",
    "saigon": "Hồ Chí Minh",
    "thuathienhue": "Huế",
    "brvt": "Bà Rịa - Vũng Tàu",
}


@dataclass(frozen=True)
class Unit:
    code: int
    name: str  # official, with its type: "Phường Ba Đình", "Tỉnh Tuyên Quang"
    parent: int  # the province of a ward or old district, the district of an old ward

    @property
    def short(self) -> str:
        """A province's name without its type, as addresses write it ("Hà Nội")."""
        for kind in ("Thành phố ", "Tỉnh "):
            if self.name.startswith(kind):
                return self.name[len(kind) :]
        return self.name


@dataclass
class NameIndex:
    """Codes by (scope, name key): exact key first, then the key without diacritics."""

    kinds: dict[int, str | None] = field(default_factory=dict)
    exact: dict[tuple[int, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    plain: dict[tuple[int, str], list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, scope: int, name: names.Name, code: int) -> None:
        self.kinds.setdefault(code, name.kind)
        # The compact key too: "Hanoi", "Danang" are typed as one word.
        for index, key in (
            (self.exact, name.exact),
            (self.plain, name.plain),
            (self.plain, name.compact),
        ):
            if code not in index[(scope, key)]:
                index[(scope, key)].append(code)

    def find(self, scopes: Iterable[int], text: str) -> list[int]:
        scopes = list(scopes)
        for strip in (True, False):
            name = names.read(text, strip)
            for index, key in (
                (self.exact, name.exact),
                (self.plain, name.plain),
                (self.plain, name.compact),
            ):
                hits = [c for s in scopes for c in index.get((s, key), ())]
                if hits:
                    return self._of_kind(hits, name.kind)
        return []

    def _of_kind(self, hits: list[int], kind: str | None) -> list[int]:
        """When "Phường X" and "Xã X" both exist, the type word written picks one."""
        wanted = _KINDS.get(kind or "", kind)
        same = [c for c in hits if self.kinds.get(c) == wanted]
        return list(dict.fromkeys(same or hits))


_WHOLE_PROVINCE: Final = -1  # the scope of an old province's wards whatever their district


@dataclass(frozen=True)
class Units:
    scheme: str  # of the codes of the units in force; a code means nothing without its scheme
    provinces: dict[int, Unit]
    wards: dict[int, Unit]
    old_provinces: dict[int, Unit]
    old_districts: dict[int, Unit]
    old_wards: dict[int, Unit]
    successors: dict[int, tuple[int, ...]]  # old ward -> the wards it went to (several: a split)
    heirs: dict[int, frozenset[int]]  # old province -> the provinces its wards went to
    sources: dict[int, frozenset[int]]  # province -> the old provinces its wards came from
    province_names: NameIndex
    old_province_names: NameIndex
    ward_names: NameIndex  # scope: province
    old_district_names: NameIndex  # scope: old province
    _old_ward_names: dict[int, NameIndex] = field(default_factory=dict)  # per old province

    def find_old_wards(self, old_province: int, district: int | None, text: str) -> list[int]:
        """Old wards named `text` in `district`, or anywhere in `old_province` when None."""
        index = self._old_ward_names.get(old_province)
        if index is None:
            # Built on first use: most addresses name a ward in force, and the old wards are
            # three quarters of the data.
            index = self._old_ward_names[old_province] = NameIndex()
            for unit in self.old_wards.values():
                if self.old_districts[unit.parent].parent == old_province:
                    name = names.read(unit.name)
                    index.add(unit.parent, name, unit.code)
                    index.add(_WHOLE_PROVINCE, name, unit.code)
        return index.find([_WHOLE_PROVINCE if district is None else district], text)


def _units(rows: list[list]) -> dict[int, Unit]:
    return {row[0]: Unit(row[0], row[1], row[2] if len(row) > 2 else 0) for row in rows}


def _index(units: Iterable[Unit], *, by_parent: bool) -> NameIndex:
    index = NameIndex()
    for unit in units:
        index.add(unit.parent if by_parent else 0, names.read(unit.name), unit.code)
        if not by_parent:
            index.add(0, names.read(unit.short), unit.code)
            for alias, name in _PROVINCE_ALIASES.items():
                if unit.short == name:
                    index.add(0, names.read(alias), unit.code)
    return index


@functools.cache
def load() -> Units:
    """The units, read and indexed on first use, then shared."""
    raw = resources.files(__package__).joinpath("vn_units.json.gz").read_bytes()
    data = json.loads(gzip.decompress(raw))
    provinces, wards = _units(data["provinces"]), _units(data["wards"])
    old_provinces, old_districts = _units(data["old_provinces"]), _units(data["old_districts"])
    old_wards = _units(data["old_wards"])
    successors = {row[0]: tuple(row[3]) for row in data["old_wards"] if row[3]}
    heirs: dict[int, set[int]] = defaultdict(set)
    sources: dict[int, set[int]] = defaultdict(set)
    for old, new in successors.items():
        old_province = old_districts[old_wards[old].parent].parent
        for ward in new:
            heirs[old_province].add(wards[ward].parent)
            sources[wards[ward].parent].add(old_province)
    return Units(
        scheme=data["schemes"]["current"],
        provinces=provinces,
        wards=wards,
        old_provinces=old_provinces,
        old_districts=old_districts,
        old_wards=old_wards,
        successors=successors,
        heirs={k: frozenset(v) for k, v in heirs.items()},
        sources={k: frozenset(v) for k, v in sources.items()},
        province_names=_index(provinces.values(), by_parent=False),
        old_province_names=_index(old_provinces.values(), by_parent=False),
        ward_names=_index(wards.values(), by_parent=True),
        old_district_names=_index(old_districts.values(), by_parent=True),
    )
