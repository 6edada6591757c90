"""Every parser's order adds up (`money.computed_total`), or waits ON_HOLD naming both figures."""

from __future__ import annotations

from services.orders.domain import lifecycle
from services.orders.domain.channels.registry import parse_detail
from services.orders.domain.status import OrderStatus
from services.orders.simulator import build_shopify_order


def test_a_subtotal_that_disagrees_with_the_lines_is_named_with_both_figures():
    payload = build_shopify_order(order_number=8, sku="S", quantity=2, unit_price_vnd=100000)
    payload["subtotal_price"] = "150000"
    order = lifecycle.new_order(parse_detail("shopify", payload, "shop")).order
    assert order.status is OrderStatus.ON_HOLD
    assert "amounts_inconsistent: subtotal 150000 VND stated, 200000 VND from the lines" in (
        order.hold_reason or ""
    )
