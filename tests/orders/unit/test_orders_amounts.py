"""Every parser's order adds up (`money.computed_total`), or waits ON_HOLD naming both figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.orders.domain import lifecycle
from services.orders.domain.channels.manual import parse_manual_csv
from services.orders.domain.channels.registry import parse_detail
from services.orders.domain.money import amount_problems
from services.orders.domain.status import OrderStatus
from services.orders.simulator import build_shopify_order

NOW = datetime(2025, 8, 2, tzinfo=UTC)


def _shopee_documented_example() -> dict[str, Any]:
    """Shopee's own get_order_detail response example (v2.order.get_order_detail), trimmed to
    the fields the parser reads: one 3000 SGD item, a 3.99 estimated shipping fee, and a
    total_amount of 2988.99, which a voucher brought below the item's price."""
    return {
        "error": "",
        "message": "",
        "response": {
            "order_list": [
                {
                    "actual_shipping_fee_confirmed": False,
                    "buyer_username": "drcbuy_uat_sg_1",
                    "cod": False,
                    "create_time": 1632973421,
                    "currency": "SGD",
                    "estimated_shipping_fee": 3.99,
                    "item_list": [
                        {
                            "item_id": 101513055,
                            "item_name": "Vitamin Bottles - Acc",
                            "item_sku": "",
                            "model_id": 0,
                            "model_name": "",
                            "model_sku": "",
                            "model_quantity_purchased": 1,
                            "model_original_price": 3000,
                            "model_discounted_price": 3000,
                            "promotion_type": "",
                        }
                    ],
                    "order_sn": "210930KJDNF06T",
                    "order_status": "COMPLETED",
                    "pay_time": 1632973437,
                    "payment_method": "Credit/Debit Card",
                    "recipient_address": {
                        "name": "Buyer",
                        "phone": "******10",
                        "region": "SG",
                        "zipcode": "820116",
                        "full_address": "BLOCK 116, EDGEFIELD PLAINS, #05-334, SG, 820116",
                    },
                    "region": "SG",
                    "total_amount": 2988.99,
                    "update_time": 1633001809,
                }
            ]
        },
        "request_id": "971b45d6a002bfc680019320c9a685a0",
    }


def test_shopee_documented_example_is_not_given_the_estimated_shipping_fee():
    order = parse_detail("shopee", _shopee_documented_example(), "sp")
    # The buyer paid 2988.99 for a 3000 item: no shipping, and 11.01 of vouchers.
    assert (order.subtotal, order.shipping_fee, order.discount_total, order.total) == (
        300000,
        0,
        1101,
        298899,
    )
    assert amount_problems(order) == []


def test_shopee_shipping_fee_is_what_the_buyer_paid_not_the_estimate_or_the_sellers_cost():
    detail = _shopee_documented_example()
    order = detail["response"]["order_list"][0]
    order["item_list"][0] |= {"model_original_price": 25.0, "model_discounted_price": 20.0}
    order["item_list"][0]["model_quantity_purchased"] = 2
    # Shopee's free-shipping voucher left the buyer 1.50 of the 3.99 estimate to pay; the
    # carrier charges the seller 2.80 (actual_shipping_fee).
    order |= {"total_amount": 41.50, "actual_shipping_fee": 2.80}
    parsed = parse_detail("shopee", detail, "sp")
    assert (parsed.subtotal, parsed.shipping_fee, parsed.total) == (4000, 150, 4150)
    assert [(ln.unit_price, ln.discount) for ln in parsed.lines] == [(2500, 1000)]
    assert amount_problems(parsed) == []


def test_shopee_bundle_deal_item_priced_zero_is_not_read_as_free():
    detail = _shopee_documented_example()
    order = detail["response"]["order_list"][0]
    order["item_list"][0] |= {"model_discounted_price": 0, "promotion_type": "bundle_deal"}
    order["total_amount"] = 2700.0  # the bundle's discount is only in the order's total
    parsed = parse_detail("shopee", detail, "sp")
    assert (parsed.lines[0].discount, parsed.shipping_fee, parsed.discount_total) == (
        0,
        0,
        30000,
    )
    assert amount_problems(parsed) == []


def test_a_subtotal_that_disagrees_with_the_lines_is_named_with_both_figures():
    payload = build_shopify_order(order_number=8, sku="S", quantity=2, unit_price_vnd=100000)
    payload["subtotal_price"] = "150000"
    order = lifecycle.new_order(parse_detail("shopify", payload, "shop")).order
    assert order.status is OrderStatus.ON_HOLD
    assert "amounts_inconsistent: subtotal 150000 VND stated, 200000 VND from the lines" in (
        order.hold_reason or ""
    )


def test_a_manual_csv_order_keeps_the_total_the_operator_typed():
    csv = (
        "order_ref,sku,quantity,unit_price,shipping_fee,discount_total,total,line1,province\n"
        "P-1,HONEY,2,100000,30000,10000,230000,12 Hàng Bạc,Hà Nội\n"
    )
    [order], errors = parse_manual_csv(csv, now=NOW)
    assert errors == [] and (order.discount_total, order.total) == (10000, 230000)
    held = lifecycle.new_order(order).order
    assert "total 230000 VND stated, 220000 VND computed" in (held.hold_reason or "")
