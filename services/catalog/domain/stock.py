"""Stock levels and the all-or-nothing reservation rule for one order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StockLevel(BaseModel):
    model_config = ConfigDict(frozen=True)

    on_hand: int = Field(ge=0)
    reserved: int = Field(ge=0)

    @model_validator(mode="after")
    def _reserved_within_on_hand(self) -> Self:
        if self.reserved > self.on_hand:
            raise ValueError(f"reserved {self.reserved} exceeds on hand {self.on_hand}")
        return self

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class Problem(StrEnum):
    NO_LINES = "NO_LINES"
    NON_POSITIVE_QUANTITY = "NON_POSITIVE_QUANTITY"
    UNKNOWN_SKU = "UNKNOWN_SKU"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    # Set by the adapter: the order's reservation exists but was already released.
    ALREADY_RELEASED = "ALREADY_RELEASED"


class LineProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: int | None = Field(description="Index in the requested lines; None for the order.")
    sku: str | None = None
    quantity: int | None = None
    problem: Problem
    requested_total: int | None = Field(default=None, description="All lines of this SKU.")
    available: int | None = None


class Reserved(BaseModel):
    """Every line is reserved; `lines` holds one (sku, quantity) per SKU, sorted by SKU."""

    model_config = ConfigDict(frozen=True)

    outcome: Literal["RESERVED"] = "RESERVED"
    lines: tuple[tuple[str, int], ...]
    replayed: bool = Field(default=False, description="True when an earlier call reserved it.")


class Rejected(BaseModel):
    """Nothing is reserved; `problems` says why, line by line."""

    model_config = ConfigDict(frozen=True)

    outcome: Literal["REJECTED"] = "REJECTED"
    problems: tuple[LineProblem, ...] = Field(min_length=1)


Decision = Reserved | Rejected


def plan_reservation(
    requested: Sequence[tuple[str, int]],
    levels: Mapping[str, StockLevel],
    known_skus: Collection[str],
) -> Decision:
    """Decides whether one order's lines can all be reserved from `levels`.

    A SKU in `known_skus` without a level has nothing available. Lines of the same SKU are
    added up before comparing with what is available, since they draw on the same stock.
    Every problem is reported, not only the first, so a producer or buyer can fix them all.
    """
    if not requested:
        return Rejected(problems=(LineProblem(line=None, problem=Problem.NO_LINES),))
    problems: list[LineProblem] = []
    totals: dict[str, int] = defaultdict(int)
    lines_of: dict[str, list[int]] = defaultdict(list)
    for index, (sku, quantity) in enumerate(requested):
        if quantity <= 0:
            problems.append(_problem(index, sku, quantity, Problem.NON_POSITIVE_QUANTITY))
        elif sku not in known_skus:
            problems.append(_problem(index, sku, quantity, Problem.UNKNOWN_SKU))
        else:
            totals[sku] += quantity
            lines_of[sku].append(index)
    for sku, total in totals.items():
        level = levels.get(sku)
        available = level.available if level else 0
        if total > available:
            problems += [
                _problem(i, sku, requested[i][1], Problem.INSUFFICIENT_STOCK, total, available)
                for i in lines_of[sku]
            ]
    if problems:
        return Rejected(problems=tuple(sorted(problems, key=lambda p: p.line or 0)))
    return Reserved(lines=tuple(sorted(totals.items())))


def _problem(
    line: int,
    sku: str,
    quantity: int,
    problem: Problem,
    requested_total: int | None = None,
    available: int | None = None,
) -> LineProblem:
    return LineProblem(
        line=line,
        sku=sku,
        quantity=quantity,
        problem=problem,
        requested_total=requested_total,
        available=available,
    )
