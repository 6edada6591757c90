from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from services.orders.domain.errors import UnknownCurrency
from services.orders.domain.model import CanonicalOrder, OrderLine, map_skus, order_id_for
from services.orders.domain.status import OrderStatus

HANOI = timezone(timedelta(hours=7))


def _order(**overrides: Any) -> CanonicalOrder:
    fields: dict[str, Any] = {
        "order_id": order_id_for("shopify", "shop.myshopify.com", "7340000000000001001"),
        "channel": "shopify",
        "account": "shop.myshopify.com",
        "external_id": "7340000000000001001",
        "status": OrderStatus.PENDING_STOCK,
        "placed_at": datetime(2025, 8, 1, 9, 30, tzinfo=HANOI),
        "updated_at": datetime(2025, 8, 1, 9, 30, tzinfo=HANOI),
        "currency": "VND",
        "lines": [
            {"channel_sku": "GOM-01", "name": "Bình gốm", "quantity": 2, "unit_price": 250000},
            {
                "channel_sku": "CHE-02",
                "name": "Chè Thái Nguyên",
                "quantity": 1,
                "unit_price": 90000,
            },
        ],
        "subtotal": 590000,
        "shipping_fee": 30000,
        "total": 620000,
        "payment": {"method": "cod", "cod": True, "cod_amount": 620000, "paid": False},
        "buyer": {"name": "Nguyễn Văn An", "phone": "+84912345678"},
        "shipping_address": {"recipient": "Nguyễn Văn An", "province": "Hà Nội", "country": "VN"},
    }
    return CanonicalOrder(**(fields | overrides))


def test_order_id_is_deterministic_for_the_same_identity() -> None:
    first = order_id_for("shopify", "shop.myshopify.com", "7340000000000001001")
    again = order_id_for("shopify", "shop.myshopify.com", "7340000000000001001")
    assert first == again


@pytest.mark.parametrize(
    "identity",
    [
        ("woocommerce", "shop.myshopify.com", "7340000000000001001"),
        ("shopify", "other.myshopify.com", "7340000000000001001"),
        ("shopify", "shop.myshopify.com", "7340000000000001002"),
    ],
)
def test_order_id_changes_when_any_identity_part_changes(identity: tuple[str, str, str]) -> None:
    assert order_id_for(*identity) != order_id_for(
        "shopify", "shop.myshopify.com", "7340000000000001001"
    )


def test_order_id_parts_cannot_collide_through_separator_characters() -> None:
    assert order_id_for("shopify", "a:b", "c") != order_id_for("shopify", "a", "b:c")


def test_order_whose_order_id_does_not_match_its_identity_is_rejected() -> None:
    with pytest.raises(ValidationError, match="order_id"):
        _order(order_id=order_id_for("shopify", "shop.myshopify.com", "1"))


def test_timestamps_are_stored_in_utc_and_serialised_as_iso_8601() -> None:
    order = _order()
    assert order.placed_at == datetime(2025, 8, 1, 2, 30, tzinfo=UTC)
    assert order.placed_at.utcoffset() == timedelta(0)
    assert '"placed_at":"2025-08-01T02:30:00Z"' in order.model_dump_json()


def test_naive_timestamp_is_rejected() -> None:
    with pytest.raises(ValidationError, match="placed_at"):
        _order(placed_at=datetime(2025, 8, 1, 9, 30))


def test_order_in_an_unknown_currency_is_a_domain_error() -> None:
    with pytest.raises(UnknownCurrency):
        _order(currency="XYZ")


@pytest.mark.parametrize("amount", [620000.0, "620000", -1])
def test_amounts_must_be_non_negative_integers(amount: object) -> None:
    with pytest.raises(ValidationError, match="total"):
        _order(total=amount)


def test_order_without_lines_is_rejected() -> None:
    with pytest.raises(ValidationError, match="lines"):
        _order(lines=[])


def test_cod_amount_on_a_non_cod_payment_is_rejected() -> None:
    with pytest.raises(ValidationError, match="cod_amount"):
        _order(payment={"method": "card", "cod": False, "cod_amount": 1000, "paid": False})


def test_cod_amount_above_the_total_is_rejected() -> None:
    with pytest.raises(ValidationError, match="cod_amount"):
        _order(payment={"method": "cod", "cod": True, "cod_amount": 620001, "paid": False})


def test_phone_that_is_not_e164_is_rejected() -> None:
    with pytest.raises(ValidationError, match="phone"):
        _order(buyer={"name": "An", "phone": "0912 345 678"})


def test_district_is_optional_since_vietnam_abolished_districts() -> None:
    address = _order().shipping_address
    assert address is not None and address.district is None


def test_order_round_trips_through_json_unchanged() -> None:
    order = _order()
    assert CanonicalOrder.model_validate_json(order.model_dump_json()) == order


def test_unknown_fields_from_a_newer_producer_are_ignored() -> None:
    data = _order().model_dump(mode="json") | {"loyalty_points": 12}
    assert CanonicalOrder.model_validate(data) == _order()


def test_order_is_immutable() -> None:
    with pytest.raises(ValidationError):
        _order().status = OrderStatus.CONFIRMED  # type: ignore[misc]


def test_map_skus_fills_our_sku_from_the_channel_listing() -> None:
    mapped, unmapped = map_skus(_order(), {"GOM-01": "BT-GOM-001", "CHE-02": "TN-CHE-002"})
    assert [line.sku for line in mapped.lines] == ["BT-GOM-001", "TN-CHE-002"]
    assert unmapped == []
    assert mapped.unmapped_lines == []


def test_map_skus_reports_each_unmapped_channel_sku_once_and_keeps_the_line() -> None:
    line = {"channel_sku": "LUA-03", "name": "Gạo", "quantity": 1, "unit_price": 1}
    order = _order(lines=[*_order().lines, line, line])
    mapped, unmapped = map_skus(order, {"GOM-01": "BT-GOM-001"})
    assert unmapped == ["CHE-02", "LUA-03"]
    assert len(mapped.lines) == 4
    assert [x.channel_sku for x in mapped.unmapped_lines] == ["CHE-02", "LUA-03", "LUA-03"]


def test_map_skus_reports_a_line_without_channel_sku_by_name() -> None:
    order = _order(lines=[{"name": "Quà tặng", "quantity": 1, "unit_price": 0}])
    assert map_skus(order, {})[1] == ["no-sku:Quà tặng"]


def test_map_skus_keeps_a_sku_mapped_by_hand_that_the_listing_does_not_know() -> None:
    hand_mapped = OrderLine(
        channel_sku="OLD-9", sku="BT-OLD-009", name="x", quantity=1, unit_price=1
    )
    mapped, unmapped = map_skus(_order(lines=[hand_mapped]), {})
    assert mapped.lines[0].sku == "BT-OLD-009"
    assert unmapped == []


def test_map_skus_does_not_change_the_original_order() -> None:
    order = _order()
    map_skus(order, {"GOM-01": "BT-GOM-001"})
    assert order.lines[0].sku is None
