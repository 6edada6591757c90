"""Each channel's parser on payloads in its documented shape, and what breaks naive adapters."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.orders.adapters.platforms.registry import (
    Account,
    normalize,
    parse_detail,
    read_push,
    verify,
)
from services.orders.adapters.platforms.woocommerce import is_woocommerce_ping
from services.orders.domain.errors import InvalidOrderPayload
from services.orders.domain.status import OrderStatus
from tests.orders import samples
from tests.orders.platform_signing import (
    lazada_push_authorization,
    shopify_webhook_hmac,
    tiktok_webhook_authorization,
    woocommerce_webhook_signature,
)

NOW = datetime(2025, 8, 2, tzinfo=UTC)


def test_woocommerce_reads_php_json_float_prices_and_cod_with_no_payment_date():
    body = samples.php_json(
        samples.woo_order(price=12.5, quantity=2) | {"currency": "USD", "total": "55.00"}
    )
    assert b"\\u1ea1" in body.lower() or b"\\u" in body  # non-ASCII escaped as PHP does
    order = parse_detail("woocommerce", json.loads(body), "shop")
    assert order.lines[0].unit_price == 1250 and order.total == 5500
    assert order.payment.cod and order.payment.cod_amount == 5500 and not order.payment.paid


def test_woocommerce_ping_is_recognised_and_the_secret_is_html_entity_decoded():
    assert is_woocommerce_ping(b"webhook_id=42")
    assert not is_woocommerce_ping(b'{"id": 1}')
    body, headers = samples.woo_request(samples.woo_order(), "a&b")
    assert verify(Account("woocommerce", "s", ["a&amp;b"]), body, headers)
    assert not verify(Account("woocommerce", "s", ["a&amp;bc"]), body, headers)


def test_shopee_shifts_vietnamese_address_levels_and_keeps_masked_names_out():
    detail = samples.shopee_detail(phone="84******78")
    detail["response"]["order_list"][0]["recipient_address"]["name"] = "N*****"
    order = parse_detail("shopee", detail, "sp")
    address = order.shipping_address
    received = address.received
    assert (received.province, received.district, received.ward) == (
        "Hà Nội",
        "Quận Hoàn Kiếm",
        "Phường Hoàn Kiếm",
    )
    assert (address.province, address.district, address.ward) == (
        "Hà Nội",
        None,
        "Phường Hoàn Kiếm",
    )
    assert address.phone is None and address.recipient == "N*****"
    assert order.updated_at == datetime(2025, 8, 1, 1, 5, tzinfo=UTC)  # unix seconds


def test_shopee_push_signature_covers_the_callback_url_and_only_code_3_is_an_order():
    account = Account("shopee", "sp", ["key"], {"callback_url": "https://cb"})
    body, headers = samples.shopee_request(samples.shopee_push(), "key", "https://cb")
    assert verify(account, body, headers)
    other = Account("shopee", "sp", ["key"], {"callback_url": "https://elsewhere"})
    assert not verify(other, body, headers)
    assert read_push(account, {"code": 4, "data": {}}, {}).kind == "ignored"
    push = read_push(account, samples.shopee_push(), {})
    assert (push.kind, push.external_id) == ("fetch", "250801ABCD1234")


def test_lazada_counts_unit_rows_and_cancels_only_the_cancelled_units():
    detail = samples.lazada_detail(units=3, statuses=["pending", "canceled", "pending"])
    order = parse_detail("lazada", detail, "lz")
    [line] = order.lines
    assert (line.quantity, line.cancelled_quantity) == (3, 1)
    assert order.channel_status == "canceled/pending" and order.status is OrderStatus.PENDING_STOCK
    all_cancelled = samples.lazada_detail(units=2, statuses=["canceled", "canceled"])
    assert parse_detail("lazada", all_cancelled, "lz").status is OrderStatus.CANCELLED


def test_tiktok_webhook_cancel_means_cancelled_and_units_are_counted():
    account = Account("tiktok-shop", "tt", ["s"], {"app_key": "k"})
    push = read_push(account, samples.tiktok_push(status="CANCEL"), {})
    assert push.note == "CANCELLED" and push.delivery_id == "7327112393057371910"
    order = parse_detail("tiktok-shop", samples.tiktok_detail(units=3, cancelled_units=1), "tt")
    assert (order.lines[0].quantity, order.lines[0].cancelled_quantity) == (3, 1)
    assert order.shipping_address.province == "Đà Nẵng"


def test_tiki_uses_the_sellers_sku_vietnam_time_and_the_collectible_amount():
    order = parse_detail("tiki", samples.tiki_order(status="canceled"), "tk")
    assert order.lines[0].channel_sku == "TK-HONEY-500"
    assert order.placed_at == datetime(2025, 8, 1, 1, 0, tzinfo=UTC)
    assert order.payment.cod_amount == 900000 and order.total == 930000
    assert order.status is OrderStatus.CANCELLED


@pytest.mark.parametrize(
    ("platform", "sign"),
    [("lazada", lazada_push_authorization), ("tiktok-shop", tiktok_webhook_authorization)],
)
def test_app_key_platforms_sign_app_key_plus_body_in_hex(platform: str, sign):
    account = Account(platform, "a", ["new", "old"], {"app_key": "112233"})
    body = b'{"x":1}'
    assert verify(account, body, {"authorization": sign("112233", "old", body)})
    assert not verify(account, body, {"authorization": sign("", "old", body)})
    assert not verify(account, body, {"authorization": "zz"})


def test_ids_beyond_2_53_stay_exact_strings():
    detail = samples.tiktok_detail(order_id=str(2**63 - 5))
    assert parse_detail("tiktok-shop", detail, "tt").external_id == str(2**63 - 5)
    woo = samples.woo_order(order_id=2**60 + 1)
    assert parse_detail("woocommerce", woo, "w").external_id == str(2**60 + 1)


def test_normalize_needs_the_detail_for_thin_pushes_and_ignores_unknown_fields():
    with pytest.raises(InvalidOrderPayload, match="--detail"):
        normalize("shopee", samples.shopee_push(), {}, None, "cli", NOW)
    detail = samples.shopee_detail()
    detail["response"]["order_list"][0]["brand_new_field"] = [1, 2, 3]
    order = normalize("shopee", samples.shopee_push(), {}, detail, "cli", NOW)
    assert order.channel == "shopee" and order.total == 930000
    body = {
        "order_ref": "P-1",
        "lines": [{"sku": "X", "quantity": 1, "unit_price": 5}],
        "shipping_address": {"line1": "a", "province": "b"},
    }
    assert normalize("manual", body, {}, None, "cli", NOW).placed_at == NOW


def test_huge_numbers_and_wrong_types_are_payload_errors():
    for bad in (
        {"model_quantity_purchased": 2**70},
        {"model_original_price": "abc"},
        {"model_original_price": 1e300},
        {"model_quantity_purchased": True},
    ):
        detail = samples.shopee_detail()
        detail["response"]["order_list"][0]["item_list"][0].update(bad)
        with pytest.raises(InvalidOrderPayload):
            parse_detail("shopee", detail, "sp")


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["shopify", "woocommerce", "shopee", "lazada", "tiktok-shop", "tiki"]),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(), c, max_size=4),
        max_leaves=20,
    ),
)
def test_any_json_is_either_an_order_or_an_invalid_order_payload(platform, payload):
    try:
        parse_detail(platform, payload, "fz")
    except InvalidOrderPayload:
        pass


def test_signatures_in_base64_are_rejected_when_forged():
    body = b"{}"
    account = Account("shopify", "s", ["one", "two"])
    assert verify(account, body, {"x-shopify-hmac-sha256": shopify_webhook_hmac("two", body)})
    assert not verify(account, body, {"x-shopify-hmac-sha256": shopify_webhook_hmac("x", body)})


def test_shopify_current_quantity_below_quantity_is_a_partial_cancellation():
    from services.orders.adapters.platforms.shopify.parse import parse_shopify_order
    from services.orders.simulator import build_shopify_order

    payload = build_shopify_order(order_number=4, sku="S", quantity=3, unit_price_vnd=1000)
    payload["line_items"][0]["current_quantity"] = 1
    [line] = parse_shopify_order(payload, account="shop").lines
    assert (line.quantity, line.cancelled_quantity, line.active_quantity) == (3, 2, 1)


def test_the_simulated_woocommerce_shop_sends_signed_php_json_our_parser_reads():
    from services.orders.simulator import build_woocommerce_order, woocommerce_webhook_request

    payload = build_woocommerce_order(
        order_number=12, sku="HG-HONEY-500", quantity=2, unit_price_vnd=450000
    )
    body, headers = woocommerce_webhook_request(payload, "secret")
    assert headers["X-WC-Webhook-Signature"] == woocommerce_webhook_signature("secret", body)
    lower = {k.lower(): v for k, v in headers.items()}
    account = Account("woocommerce", "demo-woo.example.vn", ["secret"])
    assert verify(account, body, lower) and b"\\/" not in body or b"\\u" in body
    push = read_push(account, json.loads(body), lower)
    order = push.order
    assert order.lines[0].channel_sku == "HG-HONEY-500" and order.payment.cod
    assert order.shipping_address.province and order.buyer.phone.startswith("+84")
