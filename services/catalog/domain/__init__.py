"""The catalog's pure domain: producers, products, stock and reservation decisions. No I/O."""

from .inventory import (
    AdjustmentError,
    Held,
    LowStock,
    adjustment_delta,
    low_stock_transition,
    plan_pickup,
    plan_release,
    thresholds,
)
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
    "AdjustmentError",
    "Held",
    "LowStock",
    "adjustment_delta",
    "low_stock_transition",
    "plan_pickup",
    "plan_release",
    "thresholds",
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
