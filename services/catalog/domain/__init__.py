"""The catalog's pure domain: producers, products, stock and reservation decisions. No I/O."""

from .model import LocalizedText, Producer, ProducerKind, Product, ProductStory, Programme
from .stock import (
    Decision,
    LineProblem,
    Problem,
    Rejected,
    Reserved,
    StockLevel,
    plan_reservation,
)

__all__ = [
    "Decision",
    "LineProblem",
    "LocalizedText",
    "Problem",
    "Producer",
    "ProducerKind",
    "Product",
    "ProductStory",
    "Programme",
    "Rejected",
    "Reserved",
    "StockLevel",
    "plan_reservation",
]
