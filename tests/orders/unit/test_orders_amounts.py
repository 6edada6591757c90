"""Every parser's order adds up (`money.computed_total`), or waits ON_HOLD naming both figures.

Each platform's payload is generated from amounts drawn here, and the buyer's total is worked out
from them with the platform's own documented formula, independently of the parser."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.orders.adapters.platforms.manual.parse import parse_manual_csv, parse_manual_order
from services.orders.adapters.platforms.registry import parse_detail
from services.orders.domain import lifecycle
from services.orders.domain.model import CanonicalOrder
from services.orders.domain.money import amount_problems, format_minor_units
from services.orders.domain.status import OrderStatus
from services.orders.simulator import build_shopify_order
from tests.orders import samples

NOW = datetime(2025, 8, 2, tzinfo=UTC)
PRICE = st.integers(0, 2_000_000)
FEE = st.integers(0, 200_000)
QUANTITY = st.integers(1, 4)


@dataclass
class Case:
    """A payload, what its buyer pays, and how to make its stated total disagree by `delta`
    (None for Shopee, whose shipping fee is read from its total, so they cannot disagree)."""

    platform: str
    currency: str
    payload: dict[str, Any]
    buyer_total: int
    misstate: Callable[[dict[str, Any], int], None] | None
    room_below: int | None = None  # how far the stated figure can go down (the total's own)
    buyer_shipping: int | None = None  # Shopee: the shipping its total holds, less vouchers

    def parse(self, payload: dict[str, Any] | None = None) -> CanonicalOrder:
        body = self.payload if payload is None else payload
        if self.platform == "manual":
            return parse_manual_order(body, now=NOW)
        return parse_detail(self.platform, body, "acct")

    def shown(self, minor: int) -> str:
        return f"{format_minor_units(minor, self.currency)} {self.currency}"


def _split(draw: st.DrawFn, whole: int) -> int:
    return draw(st.integers(0, whole))


@st.composite
def shopify(draw: st.DrawFn) -> Case:
    currency = draw(st.sampled_from(["VND", "USD"]))
    payload = build_shopify_order(order_number=7, sku="S-1", quantity=1, unit_price_vnd=1)
    payload["currency"] = currency
    m = partial(format_minor_units, currency=currency)
    items, subtotal, line_discounts = [], 0, 0
    for i in range(draw(st.integers(1, 4))):
        price, quantity = draw(PRICE), draw(QUANTITY)
        discount = _split(draw, price * quantity)
        items.append(
            payload["line_items"][0]
            | {
                "id": 100 + i,
                "sku": f"S-{i}",
                "quantity": quantity,
                "price": m(price),
                "total_discount": "0",  # deprecated: the allocations are what counts
                "discount_allocations": [{"amount": m(discount)}] if discount else [],
            }
        )
        subtotal += price * quantity - discount
        line_discounts += discount
    shipping = draw(FEE)
    shipping_discount = _split(draw, shipping)
    tip, tax, taxes_included = draw(FEE), draw(FEE), draw(st.booleans())
    # Whether Shopify counts shipping discounts in total_discounts does not change the order.
    counted = line_discounts + (shipping_discount if draw(st.booleans()) else 0)
    total = subtotal + shipping - shipping_discount + tip + (0 if taxes_included else tax)
    payload |= {
        "line_items": items,
        "shipping_lines": [
            {
                "title": "Standard",
                "price": m(shipping),
                "discount_allocations": [{"amount": m(shipping_discount)}],
            }
        ],
        "total_shipping_price_set": {"shop_money": {"amount": m(shipping)}},
        "total_line_items_price": m(subtotal + line_discounts),
        "subtotal_price": m(subtotal),
        "total_discounts": m(counted),
        "total_tip_received": m(tip),
        "total_tax": m(tax),
        "taxes_included": taxes_included,
        "total_price": m(total),
        "total_outstanding": m(total),
    }

    def misstate(p: dict[str, Any], delta: int) -> None:
        p["total_price"] = m(total + delta)

    return Case("shopify", currency, payload, total, misstate)


@st.composite
def woocommerce(draw: st.DrawFn) -> Case:
    currency = draw(st.sampled_from(["VND", "USD"]))
    m = partial(format_minor_units, currency=currency)
    base = samples.woo_order()
    items, lines_total, tax_total = [], 0, 0
    for i in range(draw(st.integers(1, 4))):
        # Amounts before tax, with the tax beside them; a coupon takes subtotal down to total.
        before, quantity = draw(PRICE), draw(QUANTITY)
        after = _split(draw, before)
        tax_before = draw(FEE)
        tax_after = _split(draw, tax_before)
        items.append(
            base["line_items"][0]
            | {
                "id": 300 + i,
                "sku": f"W-{i}",
                "quantity": quantity,
                "subtotal": m(before),
                "subtotal_tax": m(tax_before),
                "total": m(after),
                "total_tax": m(tax_after),
                "price": 1.0 / 3,  # total / quantity: never a whole minor unit, never read
            }
        )
        lines_total += after
        tax_total += tax_after
    fees = []
    for i in range(draw(st.integers(0, 2))):
        fee = draw(st.integers(-lines_total, 200_000))  # negative: a discount
        fee_tax = draw(FEE) if fee > 0 else 0
        fees.append({"id": 500 + i, "name": "Phí", "total": m(fee), "total_tax": m(fee_tax)})
        lines_total += fee
        tax_total += fee_tax
    shipping, shipping_tax = draw(FEE), draw(FEE)
    tax_total += shipping_tax
    # WooCommerce's own sum: line totals, fees and shipping before tax, then every tax.
    total = lines_total + shipping + tax_total
    payload = base | {
        "currency": currency,
        "prices_include_tax": draw(st.booleans()),
        "line_items": items,
        "fee_lines": fees,
        "shipping_total": m(shipping),
        "shipping_tax": m(shipping_tax),
        "total_tax": m(tax_total),
        "total": m(total),
    }

    def misstate(p: dict[str, Any], delta: int) -> None:
        p["total"] = m(total + delta)

    return Case("woocommerce", currency, payload, total, misstate)


@st.composite
def shopee(draw: st.DrawFn) -> Case:
    currency = draw(st.sampled_from(["VND", "SGD"]))

    def number(minor: int) -> float:  # Shopee sends amounts as JSON numbers
        return float(format_minor_units(minor, currency))

    detail = samples.shopee_detail()
    order = detail["response"]["order_list"][0]
    items, paid_for_items = [], 0
    for i in range(draw(st.integers(1, 4))):
        original, quantity = draw(PRICE), draw(QUANTITY)
        discounted = _split(draw, original)
        items.append(
            order["item_list"][0]
            | {
                "item_id": 1000 + i,
                "model_sku": f"SP-{i}",
                "model_quantity_purchased": quantity,
                "model_original_price": number(original),
                "model_discounted_price": number(discounted),
            }
        )
        paid_for_items += discounted * quantity
    shipping = draw(FEE)
    voucher = _split(draw, paid_for_items + shipping)
    total = paid_for_items + shipping - voucher
    order |= {
        "currency": currency,
        "item_list": items,
        "total_amount": number(total),
        "estimated_shipping_fee": number(draw(FEE)),
        "actual_shipping_fee": number(draw(FEE)),
    }
    return Case("shopee", currency, detail, total, None, buyer_shipping=max(0, shipping - voucher))


@st.composite
def lazada(draw: st.DrawFn) -> Case:
    currency = draw(st.sampled_from(["VND", "THB"]))
    m = partial(format_minor_units, currency=currency)
    detail = samples.lazada_detail()
    order = detail["order"]["data"]
    row = detail["items"]["data"][0]
    rows, items_price, vouchers = [], 0, 0
    for i in range(draw(st.integers(1, 3))):
        price = draw(PRICE)
        for unit in range(draw(QUANTITY)):
            voucher = _split(draw, price)  # this unit's share of the vouchers
            rows.append(
                row
                | {
                    "order_item_id": 90000 + 10 * i + unit,
                    "sku": f"LZ-{i}",
                    "item_price": m(price),
                    "paid_price": m(price - voucher),
                    "currency": currency,
                }
            )
            items_price += price
            vouchers += voucher
    shipping = draw(FEE)
    vouchers += _split(draw, items_price - vouchers + shipping)  # one not spread over items
    total = items_price + shipping - vouchers
    detail["items"]["data"] = rows
    order |= {"price": m(items_price), "shipping_fee": m(shipping), "voucher": m(vouchers)}

    def misstate(p: dict[str, Any], delta: int) -> None:
        # Lazada states the items' price, shipping and vouchers: their sum is its total.
        p["order"]["data"]["price"] = m(items_price + delta)

    return Case("lazada", currency, detail, total, misstate, room_below=min(items_price, total))


@st.composite
def tiktok(draw: st.DrawFn) -> Case:
    currency = draw(st.sampled_from(["VND", "USD"]))
    m = partial(format_minor_units, currency=currency)
    detail = samples.tiktok_detail()
    order = detail["data"]["orders"][0]
    row = order["line_items"][0]
    rows, original_total, sub_total = [], 0, 0
    for i in range(draw(st.integers(1, 3))):
        original = draw(PRICE)
        for unit in range(draw(QUANTITY)):
            sale = _split(draw, original)
            rows.append(
                row
                | {
                    "id": f"li-{i}-{unit}",
                    "seller_sku": f"TT-{i}",
                    "original_price": m(original),
                    "sale_price": m(sale),
                }
            )
            original_total += original
            sub_total += sale
    seller_discount = _split(draw, original_total - sub_total)
    shipping, tax, small_order_fee = draw(FEE), draw(FEE), draw(FEE)
    # TikTok's formula: total_amount = sub_total + shipping_fee + taxes + fees.
    total = sub_total + shipping + tax + small_order_fee
    order["line_items"] = rows
    order["payment"] = {
        "currency": currency,
        "original_total_product_price": m(original_total),
        "seller_discount": m(seller_discount),
        "platform_discount": m(original_total - sub_total - seller_discount),
        "sub_total": m(sub_total),
        "shipping_fee": m(shipping),
        "tax": m(tax),
        "small_order_fee": m(small_order_fee),
        "total_amount": m(total),
    }

    def misstate(p: dict[str, Any], delta: int) -> None:
        p["data"]["orders"][0]["payment"]["total_amount"] = m(total + delta)

    return Case("tiktok-shop", currency, detail, total, misstate)


@st.composite
def tiki(draw: st.DrawFn) -> Case:
    detail = samples.tiki_order()
    item = detail["items"][0]
    items, before, item_discounts = [], 0, 0
    for i in range(draw(st.integers(1, 4))):
        price, qty = draw(PRICE), draw(QUANTITY)
        discount = _split(draw, price * qty)
        items.append(
            item
            | {
                "id": 70 + i,
                "product": item["product"] | {"seller_product_code": f"TK-{i}"},
                "qty": qty,
                "invoice": {"price": price, "quantity": qty, "discount_amount": discount},
            }
        )
        before += price * qty
        item_discounts += discount
    order_voucher = _split(draw, before - item_discounts)
    shipping, handling_fee = draw(FEE), draw(FEE)
    total = before - item_discounts - order_voucher + shipping + handling_fee
    detail["items"] = items
    detail["invoice"] = {
        "subtotal": before,
        "discount_amount": item_discounts + order_voucher,
        "shipping_amount_after_discount": shipping,
        "shipping_discount_amount": draw(FEE),  # what Tiki paid: not the buyer's
        "handling_fee": handling_fee,
        "grand_total": total,
        "collectible_amount": _split(draw, total),
    }

    def misstate(p: dict[str, Any], delta: int) -> None:
        p["invoice"]["grand_total"] = total + delta

    return Case("tiki", "VND", detail, total, misstate)


@st.composite
def manual(draw: st.DrawFn) -> Case:
    lines, subtotal = [], 0
    for i in range(draw(st.integers(1, 4))):
        price, quantity = draw(PRICE), draw(QUANTITY)
        discount = _split(draw, price * quantity)
        lines.append(
            {"sku": f"M-{i}", "quantity": quantity, "unit_price": price, "discount": discount}
        )
        subtotal += price * quantity - discount
    shipping = draw(FEE)
    discount_total = _split(draw, subtotal + shipping)
    total = subtotal - discount_total + shipping
    body = {
        "order_ref": "P-7",
        "lines": lines,
        "shipping_fee": shipping,
        "discount_total": discount_total,
        "shipping_address": {"line1": "12 Hàng Bạc", "province": "Hà Nội"},
    }
    if draw(st.booleans()):  # the operator may type the agreed total, or leave it out
        body["total"] = total

    def misstate(p: dict[str, Any], delta: int) -> None:
        p["total"] = total + delta

    return Case("manual", "VND", body, total, misstate)


ANY_PLATFORM = st.one_of(shopify(), woocommerce(), shopee(), lazada(), tiktok(), tiki(), manual())
MISSTATABLE = st.one_of(shopify(), woocommerce(), lazada(), tiktok(), tiki(), manual())


@settings(max_examples=400, deadline=None)
@given(ANY_PLATFORM)
def test_every_parsed_order_adds_up_to_what_the_buyer_pays(case: Case):
    order = case.parse()
    assert amount_problems(order) == []
    assert order.total == case.buyer_total
    assert lifecycle.new_order(order).order.status is OrderStatus.PENDING_STOCK


@settings(max_examples=300, deadline=None)
@given(MISSTATABLE, st.integers(1, 10**6), st.booleans())
def test_an_order_whose_stated_total_disagrees_waits_on_hold_naming_both(
    case: Case, delta: int, lower: bool
):
    assert case.misstate is not None
    room = case.buyer_total if case.room_below is None else case.room_below
    delta = -delta if lower and delta <= room else delta
    payload = copy.deepcopy(case.payload)
    case.misstate(payload, delta)
    result = lifecycle.new_order(case.parse(payload))
    reason = result.order.hold_reason or ""
    assert result.order.status is OrderStatus.ON_HOLD
    assert "amounts_inconsistent: total" in reason
    assert f"total {case.shown(case.buyer_total + delta)} stated" in reason
    assert f"{case.shown(case.buyer_total)} computed" in reason


@settings(max_examples=100, deadline=None)
@given(shopee())
def test_shopee_shipping_is_what_the_buyer_paid_whatever_the_estimate_and_the_sellers_cost(
    case: Case,
):
    order = case.parse()
    # Exact without vouchers; a voucher on an order with paid shipping shows as less shipping.
    assert order.shipping_fee == case.buyer_shipping


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


def _misstated_shopify_order(updated_at: str | None = None, city: str = "Hà Nội"):
    payload = build_shopify_order(
        order_number=9,
        sku="S",
        quantity=2,
        unit_price_vnd=100000,
        buyer={"city": city, "province": ""},
    )
    payload["total_price"] = str(int(payload["total_price"]) + 50000)
    if updated_at:
        payload["updated_at"] = updated_at
    return parse_detail("shopify", payload, "shop")


def test_the_operator_accepts_misstated_amounts_and_the_order_goes_on_with_the_stated_total():
    held = lifecycle.new_order(_misstated_shopify_order()).order
    assert held.status is OrderStatus.ON_HOLD

    kept = lifecycle.resolve(held, {"S": "S"})
    assert kept.outcome == "still_on_hold" and "amounts_inconsistent" in kept.order.hold_reason

    released = lifecycle.resolve(kept.order, accept_amounts=True)
    assert released.order.status is OrderStatus.PENDING_STOCK
    assert released.order.total == held.total  # never corrected: the buyer was charged that
    assert [type(e).__name__ for e in released.effects] == ["Placed"]


def test_accepted_amounts_stay_accepted_when_the_channel_sends_the_order_again():
    nowhere = "Xã Không Có, Tỉnh Không Có"
    held = lifecycle.new_order(_misstated_shopify_order(city=nowhere)).order
    accepted = lifecycle.resolve(held, accept_amounts=True).order
    assert accepted.status is OrderStatus.ON_HOLD
    assert "amounts_inconsistent" not in accepted.hold_reason

    again = _misstated_shopify_order("2099-01-01T00:00:00+07:00", city=nowhere)
    still = lifecycle.apply_channel_update(accepted, again).order
    assert still.status is OrderStatus.ON_HOLD
    assert "amounts_inconsistent" not in still.hold_reason, still.hold_reason

    fixed = _misstated_shopify_order("2099-01-02T00:00:00+07:00", city="Hà Nội")
    released = lifecycle.apply_channel_update(still, fixed)
    assert released.order.status is OrderStatus.PENDING_STOCK
    assert [type(e).__name__ for e in released.effects] == ["Placed"]
