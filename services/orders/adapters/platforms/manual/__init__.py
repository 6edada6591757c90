"""Manual orders typed in by an operator (phone, Zalo, market stall): `POST /orders` and CSV
imports. No account, no push, no API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.orders.adapters.platforms.channel import Channel, guard
from services.orders.adapters.platforms.manual.parse import parse_manual_order
from services.orders.domain.model import CanonicalOrder


class Manual(Channel):
    name = "manual"
    intake = "operator"

    def normalize(
        self,
        payload: Any,
        headers: Mapping[str, str],
        detail: Any | None,
        account: str,
        now: datetime,
    ) -> CanonicalOrder:
        return guard(lambda: parse_manual_order(payload, now=now))


CHANNEL = Manual()
