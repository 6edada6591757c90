"""Errors raised by the orders domain. Callers catch `OrderError` to handle any of them."""

from __future__ import annotations


class OrderError(Exception):
    """Base class of every orders-domain error."""


class InvalidOrderPayload(OrderError):
    """A channel's order payload lacks a required field or carries an unusable value."""


class InvalidMoney(OrderError):
    """An amount is malformed, out of range, or more precise than its currency allows."""


class UnknownCurrency(InvalidMoney):
    """The currency is not in our exponent table, so its amounts cannot be converted safely."""


class InvalidTransition(OrderError):
    """The saga tried to move an order to a status not allowed from its current one."""

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"order status cannot go from {current} to {target}")
        self.current = current
        self.target = target
