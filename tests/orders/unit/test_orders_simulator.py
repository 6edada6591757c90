import json
import random

from services.orders.adapters.platforms.shopify.parse import parse_shopify_order
from services.orders.domain.status import OrderStatus
from services.orders.simulator import build_shopify_order, shopify_webhook_request
from tests.orders.platform_signing import shopify_webhook_hmac


def _order(order_number: int = 1001) -> dict:
    return build_shopify_order(
        order_number=order_number, sku="GOM-01", quantity=3, unit_price_vnd=180000
    )


def test_simulated_order_parses_as_a_pending_cod_order_in_vnd() -> None:
    body, headers = shopify_webhook_request(_order(), "s3cret")
    order = parse_shopify_order(json.loads(body), account=headers["X-Shopify-Shop-Domain"])
    assert order.status is OrderStatus.PENDING_STOCK
    assert (order.currency, order.subtotal) == ("VND", 540000)
    assert order.payment.cod and not order.payment.paid
    assert order.payment.cod_amount == order.total == order.subtotal + order.shipping_fee
    assert order.buyer.phone is not None and order.buyer.phone.startswith("+84")
    assert order.shipping_address is not None and order.shipping_address.country == "VN"


def test_simulated_ids_exceed_2_to_53_and_are_sent_as_json_integers() -> None:
    payload = _order()
    assert isinstance(payload["id"], int) and payload["id"] > 2**53
    body, _ = shopify_webhook_request(payload, "s3cret")
    assert f'"id":{payload["id"]},'.encode() in body


def test_simulated_request_is_signed_over_its_exact_body() -> None:
    body, headers = shopify_webhook_request(_order(), "s3cret")
    assert headers["X-Shopify-Hmac-Sha256"] == shopify_webhook_hmac("s3cret", body)
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["Content-Type"] == "application/json"


def test_body_is_utf8_with_vietnamese_diacritics_unescaped() -> None:
    body, _ = shopify_webhook_request(_order(), "s3cret")
    assert "Giao hàng tiêu chuẩn".encode() in body


def test_same_order_number_gives_byte_identical_requests_for_redelivery() -> None:
    assert shopify_webhook_request(_order(), "s3cret") == shopify_webhook_request(
        _order(), "s3cret"
    )


def test_different_orders_get_different_event_and_webhook_ids() -> None:
    _, first = shopify_webhook_request(_order(1001), "s3cret")
    _, second = shopify_webhook_request(_order(1002), "s3cret")
    assert first["X-Shopify-Event-Id"] != second["X-Shopify-Event-Id"]
    assert first["X-Shopify-Webhook-Id"] != second["X-Shopify-Webhook-Id"]


def test_an_update_with_a_newer_updated_at_is_a_new_event() -> None:
    payload = _order()
    updated = payload | {"updated_at": "2025-08-02T10:00:00+07:00"}
    _, first = shopify_webhook_request(payload, "s3cret")
    _, second = shopify_webhook_request(updated, "s3cret", topic="orders/updated")
    assert first["X-Shopify-Event-Id"] != second["X-Shopify-Event-Id"]


def test_buyer_fields_override_the_generated_ones() -> None:
    buyer = {"first_name": "Lan", "last_name": "Trần Ngọc", "phone": "+84 98 765 4321"}
    payload = build_shopify_order(
        order_number=7, sku="CHE-02", quantity=1, unit_price_vnd=90000, buyer=buyer
    )
    order = parse_shopify_order(payload, account="shop.myshopify.com")
    assert order.buyer.name == "Trần Ngọc Lan"
    assert order.shipping_address is not None and order.shipping_address.phone == "+84987654321"


def test_a_given_rng_drives_the_generated_buyer() -> None:
    def build(seed: int) -> dict:
        return build_shopify_order(
            order_number=5, sku="X", quantity=1, unit_price_vnd=1, rng=random.Random(seed)
        )

    assert build(1) == build(1)
    assert any(build(1)["customer"] != build(seed)["customer"] for seed in range(2, 6))
