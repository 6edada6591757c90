import json
from datetime import UTC, datetime
from typing import Any

import pytest

from services.orders.adapters.platforms.shopify.parse import parse_shopify_order
from services.orders.domain.errors import InvalidOrderPayload, OrderError
from services.orders.domain.model import order_id_for
from services.orders.domain.status import OrderStatus

SHOP = "lang-gom-bat-trang.myshopify.com"
BIG_ID = 5_678_901_234_567_890_123  # > 2^53: a double would round it


def _payload(**overrides: Any) -> dict[str, Any]:
    """A Shopify orders/create body as a Vietnamese COD shop receives it, trimmed to what matters
    plus a few fields we do not model, which must be ignored."""
    address = {
        "first_name": "An",
        "last_name": "Nguyễn Văn",
        "name": "An Nguyễn Văn",
        "phone": "0912 345 678",
        "address1": "Số 12 phố Hàng Bạc",
        "address2": "Tầng 2",
        "city": "Phường Hoàn Kiếm",
        "province": "Hà Nội",
        "country": "Vietnam",
        "country_code": "VN",
        "zip": "100000",
        "latitude": 21.03,
        "company": None,
    }
    payload: dict[str, Any] = {
        "id": BIG_ID,
        "admin_graphql_api_id": f"gid://shopify/Order/{BIG_ID}",
        "name": "#1001",
        "created_at": "2025-08-01T09:30:00+07:00",
        "updated_at": "2025-08-01T09:31:05+07:00",
        "cancelled_at": None,
        "cancel_reason": None,
        "currency": "VND",
        "subtotal_price": "520000",
        "total_discounts": "30000",
        "total_tax": "0",
        "total_price": "550000",
        "total_outstanding": "550000",
        "total_shipping_price_set": {
            "shop_money": {"amount": "30000", "currency_code": "VND"},
            "presentment_money": {"amount": "30000", "currency_code": "VND"},
        },
        "financial_status": "pending",
        "fulfillment_status": None,
        "gateway": "Cash on Delivery (COD)",
        "payment_gateway_names": ["Cash on Delivery (COD)"],
        "email": "an.nguyen@example.com",
        "phone": None,
        "line_items": [
            {
                "id": BIG_ID + 1,
                "variant_id": BIG_ID + 2,
                "sku": "GOM-01 ",
                "title": "Bình gốm",
                "name": "Bình gốm - Men lam",
                "quantity": 2,
                "price": "250000",
                "total_discount": "0",
                "discount_allocations": [{"amount": "30000"}],
                "properties": [{"name": "Khắc tên", "value": "An"}],
            },
            {
                "id": BIG_ID + 3,
                "variant_id": BIG_ID + 4,
                "sku": "CHE-02",
                "title": "Chè",
                "quantity": 1,
                "price": "50000",
                "total_discount": "0",
            },
        ],
        "customer": {
            "id": BIG_ID + 5,
            "first_name": "An",
            "last_name": "Nguyễn Văn",
            "email": "an.nguyen@example.com",
            "phone": "+84 912 345 678",
        },
        "shipping_address": address,
        "billing_address": dict(address),
        "client_details": {"browser_ip": "203.0.113.9"},
        "a_field_from_2030": {"x": [1, 2]},
    }
    return payload | overrides


def _parse(**overrides: Any) -> Any:
    return parse_shopify_order(_payload(**overrides), account=SHOP)


def test_big_shopify_id_from_raw_json_is_kept_exactly_as_a_string() -> None:
    order = parse_shopify_order(json.loads(json.dumps(_payload())), account=SHOP)
    assert order.external_id == "5678901234567890123"
    assert order.lines[0].channel_line_id == "5678901234567890124"


def test_order_id_is_our_deterministic_id_so_a_redelivery_maps_to_the_same_order() -> None:
    assert _parse().order_id == _parse().order_id == order_id_for("shopify", SHOP, str(BIG_ID))


def test_vnd_amounts_are_whole_dong() -> None:
    order = _parse()
    assert order.currency == "VND"
    # The 30000 discount is allocated to the first line, so it is in the line and the subtotal,
    # not again in discount_total.
    assert (order.subtotal, order.shipping_fee, order.discount_total, order.total) == (
        520000,
        30000,
        0,
        550000,
    )
    assert [(x.unit_price, x.discount) for x in order.lines] == [(250000, 30000), (50000, 0)]


def test_vnd_amounts_written_with_zero_decimals_are_accepted() -> None:
    assert _parse(total_price="550000.00", total_outstanding="550000.00").total == 550000


def test_cod_order_is_unpaid_and_the_courier_collects_the_total() -> None:
    payment = _parse().payment
    assert (payment.method, payment.cod, payment.paid, payment.cod_amount) == (
        "cod",
        True,
        False,
        550000,
    )


def test_vietnamese_named_cod_gateway_is_recognised_as_cod() -> None:
    name = "Thanh toán khi nhận hàng (COD)"
    payment = _parse(gateway=None, payment_gateway_names=[name]).payment
    assert payment.cod is True


def test_paid_card_order_has_nothing_to_collect() -> None:
    payment = _parse(
        gateway="shopify_payments",
        payment_gateway_names=["shopify_payments"],
        financial_status="paid",
        total_outstanding="0",
    ).payment
    assert (payment.method, payment.cod, payment.paid, payment.cod_amount) == (
        "shopify_payments",
        False,
        True,
        0,
    )


def test_phones_are_normalised_to_e164_using_the_address_country() -> None:
    order = _parse()
    assert order.shipping_address is not None
    assert order.shipping_address.phone == "+84912345678"
    assert order.buyer.phone == "+84912345678"


@pytest.mark.parametrize("phone", ["not a phone", "12", "0912 *** 678", ""])
def test_unparseable_or_masked_phone_becomes_none_instead_of_failing(phone: str) -> None:
    address = _payload()["shipping_address"] | {"phone": phone}
    order = _parse(shipping_address=address)
    assert order.shipping_address is not None and order.shipping_address.phone is None


def test_vietnamese_names_are_written_family_name_first_and_parts_are_kept() -> None:
    order = _parse()
    address = order.shipping_address
    assert address is not None
    assert address.recipient == "Nguyễn Văn An"  # Shopify's own "name" says "An Nguyễn Văn"
    assert (address.recipient_given_name, address.recipient_family_name) == ("An", "Nguyễn Văn")
    assert (order.buyer.name, order.buyer.email) == ("Nguyễn Văn An", "an.nguyen@example.com")


def test_vietnamese_city_is_the_ward_and_province_is_kept() -> None:
    address = _parse().shipping_address
    assert address is not None
    assert (address.line1, address.line2) == ("Số 12 phố Hàng Bạc", "Tầng 2")
    assert (address.ward, address.district, address.province) == (
        "Phường Hoàn Kiếm",
        None,
        "Hà Nội",
    )
    assert (address.country, address.postal_code) == ("VN", "100000")


def test_pre_2025_ward_and_district_in_city_become_the_ward_in_force() -> None:
    address = _payload()["shipping_address"] | {
        "city": "Phường Bến Nghé, Quận 1",
        "province": "Hồ Chí Minh",
    }
    parsed = _parse(shipping_address=address).shipping_address
    assert parsed is not None
    assert (parsed.ward, parsed.district) == ("Phường Sài Gòn", None)
    assert parsed.city == "Phường Bến Nghé, Quận 1"


def test_foreign_address_keeps_city_without_inventing_a_ward() -> None:
    address = _payload()["shipping_address"] | {
        "country_code": "US",
        "city": "Austin",
        "phone": "(512) 555-0134",
        "first_name": "Jane",
        "last_name": "Doe",
    }
    parsed = _parse(shipping_address=address, billing_address=address).shipping_address
    assert parsed is not None
    assert (parsed.city, parsed.ward, parsed.district) == ("Austin", None, None)
    assert (parsed.recipient, parsed.phone) == ("Jane Doe", "+15125550134")


def test_channel_sku_is_taken_from_the_line_sku_and_our_sku_waits_for_mapping() -> None:
    lines = _parse().lines
    assert [(x.channel_sku, x.sku) for x in lines] == [("GOM-01", None), ("CHE-02", None)]
    assert lines[0].name == "Bình gốm - Men lam"


def test_new_order_starts_pending_stock_with_the_raw_shopify_status_kept() -> None:
    order = _parse()
    assert order.status is OrderStatus.PENDING_STOCK
    assert order.channel_status == "pending/unfulfilled"


def test_order_with_cancelled_at_is_cancelled() -> None:
    order = _parse(cancelled_at="2025-08-01T10:00:00+07:00", financial_status="voided")
    assert order.status is OrderStatus.CANCELLED
    assert order.channel_status == "cancelled/voided/unfulfilled"


def test_timestamps_are_converted_to_utc() -> None:
    order = _parse()
    assert order.placed_at == datetime(2025, 8, 1, 2, 30, tzinfo=UTC)
    assert order.updated_at == datetime(2025, 8, 1, 2, 31, 5, tzinfo=UTC)


def test_unknown_fields_do_not_change_the_parsed_order() -> None:
    plain = _payload()
    del plain["a_field_from_2030"], plain["client_details"]
    assert parse_shopify_order(plain, account=SHOP) == _parse()


@pytest.mark.parametrize("line_items", [None, [], "nope"])
def test_order_without_line_items_is_an_invalid_payload(line_items: Any) -> None:
    with pytest.raises(InvalidOrderPayload, match=rf"{BIG_ID}: line_items is missing or empty"):
        _parse(line_items=line_items)


@pytest.mark.parametrize("order_id", [None, "", True, -5, "12abc"])
def test_order_without_a_usable_id_is_an_invalid_payload(order_id: Any) -> None:
    with pytest.raises(InvalidOrderPayload, match="no usable id"):
        _parse(id=order_id)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"total_price": "550000.5"}, r"total_price: .*more precision than VND"),
        ({"total_price": None}, "total_price is missing"),
        ({"total_price": 550000.0}, "total_price: .*float"),
        ({"currency": "ABC"}, "currency: unknown currency 'ABC'"),
        ({"created_at": "2025-08-01T09:30:00"}, "created_at must be an ISO 8601 time"),
    ],
)
def test_bad_order_fields_raise_a_precise_invalid_payload(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidOrderPayload, match=message):
        _parse(**overrides)


def test_bad_line_price_names_the_line_in_the_error() -> None:
    lines = _payload()["line_items"]
    lines[1] = lines[1] | {"price": "50000.25"}
    with pytest.raises(InvalidOrderPayload, match=r"line_items\[1\]\.price"):
        _parse(line_items=lines)


def test_non_positive_quantity_is_an_invalid_payload() -> None:
    lines = [_payload()["line_items"][0] | {"quantity": 0}]
    with pytest.raises(InvalidOrderPayload, match=r"line_items\[0\]\.quantity"):
        _parse(line_items=lines)


def test_invalid_payload_is_an_order_error() -> None:
    with pytest.raises(OrderError):
        _parse(line_items=[])
