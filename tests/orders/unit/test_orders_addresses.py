"""Vietnamese addresses resolved against the administrative units in force since 1 July 2025,
through every channel's parser, and the hold reasons of those that cannot be resolved."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.orders import simulator
from services.orders.adapters.platforms.registry import normalize, parse_detail
from services.orders.domain import addresses, lifecycle
from services.orders.domain.addresses import names
from services.orders.domain.model import Address, CanonicalOrder
from services.orders.domain.status import OrderStatus as S
from tests.orders import samples

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
PA_VI = ("Hà Giang", "Huyện Mèo Vạc", "Xã Pả Vi")  # old Hà Giang, now Tuyên Quang
DI_AN = ("Bình Dương", "Thành phố Dĩ An", "Phường Dĩ An")  # old Bình Dương, now TP HCM
DOI_CAN = ("Hà Nội", "Quận Ba Đình", "Phường Đội Cấn")  # split between two wards in 2025


def shopify(city: str | None, province: str | None, address2: str | None = None):
    payload = simulator.build_shopify_order(
        order_number=7,
        sku="X",
        quantity=1,
        unit_price_vnd=100000,
        buyer={"city": city, "province": province},
    )
    payload["shipping_address"]["address2"] = address2
    return parse_detail("shopify", payload, "shop")


def woocommerce(city: str | None, state: str | None, address_2: str = "", country: str = "VN"):
    payload = samples.woo_order()
    payload["shipping"] |= {"city": city, "state": state, "address_2": address_2}
    payload["shipping"]["country"] = payload["billing"]["country"] = country
    return parse_detail("woocommerce", payload, "shop")


def manual(**shipping_address: str | None) -> CanonicalOrder:
    body = {
        "order_ref": "Z-1",
        "lines": [{"sku": "HONEY", "name": "Mật ong", "quantity": 1, "unit_price": 100000}],
        "shipping_address": {"line1": "Thôn 3"} | shipping_address,
    }
    return normalize("manual", body, {}, None, "phone", NOW)


def three_levels(platform: str, province: str, district: str, ward: str) -> CanonicalOrder:
    """An order whose address comes in the old three levels, in the platform's own fields."""
    if platform == "shopee":
        detail = samples.shopee_detail()
        recipient = detail["response"]["order_list"][0]["recipient_address"]
        recipient |= {"state": province, "city": district, "district": ward, "town": ""}
        return parse_detail("shopee", detail, "sp")
    if platform == "lazada":
        detail = samples.lazada_detail()
        shipping = detail["order"]["data"]["address_shipping"]
        shipping |= {"address3": province, "address4": district, "address5": ward, "city": ""}
        return parse_detail("lazada", detail, "lz")
    if platform == "tiktok-shop":
        detail = samples.tiktok_detail()
        recipient = detail["data"]["orders"][0]["recipient_address"]
        recipient["district_info"] = [
            {"address_level": level, "address_name": name}
            for level, name in (("L0", "Vietnam"), ("L1", province), ("L2", district), ("L3", ward))
        ]
        return parse_detail("tiktok-shop", detail, "tt")
    if platform == "tiki":
        order = samples.tiki_order()
        order["shipping"]["address"] |= {"region": province, "district": district, "ward": ward}
        return parse_detail("tiki", order, "tk")
    return manual(province=province, district=district, ward=ward)


def place(address: Address | None) -> tuple[str | None, str | None, str | None]:
    assert address is not None
    return address.province, address.district, address.ward


def held_for(order: CanonicalOrder) -> str | None:
    return lifecycle.new_order(order).order.hold_reason


@pytest.mark.parametrize(
    ("city", "address2", "ward"),
    [
        ("Hà Nội", None, None),
        ("Ha Noi", None, None),
        ("Hanoi", "Phường Hoàn Kiếm", "Phường Hoàn Kiếm"),
        ("Hà Nội", "Tầng 2, Phường Ba Đình", "Phường Ba Đình"),
    ],
)
def test_a_shopify_address_with_ha_noi_as_city_and_no_province_is_placed_not_held(
    city, address2, ward
):
    order = shopify(city, None, address2)
    assert place(order.shipping_address) == ("Hà Nội", None, ward)
    assert order.shipping_address.city == city  # as it came
    result = lifecycle.new_order(order)
    assert result.order.status is S.PENDING_STOCK and result.order.hold_reason is None


@pytest.mark.parametrize(
    ("city", "address_2", "ward"),
    [
        ("Hà Nội", "", None),
        ("Hà Nội", "Phường Hoàn Kiếm", "Phường Hoàn Kiếm"),
        ("Phường Hoàn Kiếm, Hà Nội", "", "Phường Hoàn Kiếm"),
        ("Phuong Hoan Kiem, Ha Noi", "", "Phường Hoàn Kiếm"),
    ],
)
def test_a_woocommerce_address_with_an_empty_state_takes_the_province_from_the_city(
    city, address_2, ward
):
    order = woocommerce(city, "", address_2)
    assert place(order.shipping_address) == ("Hà Nội", None, ward)
    assert lifecycle.new_order(order).order.status is S.PENDING_STOCK


@pytest.mark.parametrize("platform", ["shopee", "lazada", "tiktok-shop", "tiki", "manual"])
@pytest.mark.parametrize(
    ("old", "now", "codes"),
    [
        (PA_VI, ("Tuyên Quang", None, "Xã Mèo Vạc"), ("08", "00769")),
        (DI_AN, ("Hồ Chí Minh", None, "Phường Dĩ An"), ("79", "25942")),
    ],
)
def test_an_old_three_level_address_gets_the_province_and_ward_in_force(platform, old, now, codes):
    order = three_levels(platform, *old)
    address = order.shipping_address
    assert place(address) == now
    assert address.admin_codes is not None
    assert (address.admin_codes.scheme, address.admin_codes.province) == ("vn-nso-2025", codes[0])
    assert address.admin_codes.ward == codes[1]
    assert address.received is not None
    assert place(address.received) == old  # the old text, as it came
    assert lifecycle.new_order(order).order.status is S.PENDING_STOCK


def test_an_old_ward_written_on_the_locality_line_of_shopify_is_mapped_too():
    order = shopify("Xã Pả Vi, Huyện Mèo Vạc", "Hà Giang")
    assert place(order.shipping_address) == ("Tuyên Quang", None, "Xã Mèo Vạc")


@pytest.mark.parametrize(
    ("province", "district", "ward", "now"),
    [
        ("Ha Noi", None, "Phuong Ba Dinh", ("Hà Nội", None, "Phường Ba Đình")),
        ("Hanoi", None, "Ba Dinh", ("Hà Nội", None, "Phường Ba Đình")),
        ("Ho Chi Minh City", None, "Phuong Sai Gon", ("Hồ Chí Minh", None, "Phường Sài Gòn")),
        ("TP. HCM", None, "P. Sài Gòn", ("Hồ Chí Minh", None, "Phường Sài Gòn")),
        ("Thành phố Hồ Chí Minh", "Q.1", "P. Bến Nghé", ("Hồ Chí Minh", None, "Phường Sài Gòn")),
        ("Thừa Thiên Huế", None, "Phường Thuận Hoà", ("Huế", None, "Phường Thuận Hóa")),
        (
            "Bà Rịa–Vũng Tàu",
            "TP. Vũng Tàu",
            "Phường Thắng Tam",
            ("Hồ Chí Minh", None, "Phường Vũng Tàu"),
        ),
        (
            "Tỉnh Hoà Bình",
            "Thành phố Hòa Bình",
            "Phường Thái Bình",
            ("Phú Thọ", None, "Phường Thống Nhất"),
        ),
    ],
)
def test_ascii_english_abbreviated_and_differently_accented_names_resolve(
    province, district, ward, now
):
    address = manual(province=province, district=district, ward=ward).shipping_address
    assert place(address) == now


def test_an_old_ward_that_split_holds_the_order_naming_the_candidates():
    for platform in ("shopee", "lazada", "tiktok-shop", "tiki", "manual"):
        order = three_levels(platform, *DOI_CAN)
        assert held_for(order) == (
            'address_ambiguous: old ward "Phường Đội Cấn, Quận Ba Đình" split into '
            '"Phường Ba Đình", "Phường Ngọc Hà"'
        ), platform
        assert place(order.shipping_address) == DOI_CAN  # kept for the operator


def test_an_old_ward_named_without_its_district_that_exists_in_several_is_held():
    reason = held_for(manual(province="Hồ Chí Minh", ward="Phường 4"))
    assert reason is not None
    assert reason.startswith('address_ambiguous: ward "Phường 4" could be "Phường ')


@pytest.mark.parametrize(
    ("shipping_address", "reason"),
    [
        (
            {"province": "Hà Nội", "ward": "Phường Xyz"},
            'address_unknown: ward "Phường Xyz" not found in Hà Nội',
        ),
        (
            {"province": "Hà Giang", "district": "Huyện Mèo Vạc", "ward": "Xã Xyz"},
            'address_unknown: ward "Xã Xyz" not found in Tuyên Quang',
        ),
        (
            {"province": "Xyz", "ward": "Phường Ba Đình"},
            'address_unknown: province "Xyz" not found',
        ),
        ({"ward": "Phường Ba Đình"}, "address_unusable: province missing"),
        ({"province": "Hà Nội", "line1": None}, "address_unusable: line1 missing"),
    ],
)
def test_an_unknown_or_missing_part_holds_the_order_saying_which(shipping_address, reason):
    assert held_for(manual(**shipping_address)) == reason


def test_a_shopify_ward_without_a_province_is_held_for_the_province():
    assert held_for(shopify("Phường Hoàn Kiếm", None)) == "address_unusable: province missing"


def _province_names() -> list[str]:
    units = addresses.load()
    every = [*units.provinces.values(), *units.old_provinces.values()]
    return sorted({text for unit in every for text in (unit.name, unit.short)})


@pytest.mark.parametrize("name", _province_names())
def test_a_province_in_the_city_field_never_becomes_the_ward(name):
    for order in (shopify(name, None), woocommerce(name, ""), shopify(name, name)):
        address = order.shipping_address
        assert address.ward is None and address.province is not None, name
        assert address.city == name


@pytest.mark.parametrize("country", ["TH", "ID", "PH", "JP"])
def test_addresses_outside_vietnam_are_kept_as_they_came(country):
    payload = simulator.build_shopify_order(
        order_number=9, sku="X", quantity=1, unit_price_vnd=100000
    )
    payload["shipping_address"] |= {"country_code": country, "city": "Muang", "province": "P1"}
    shopify_address = parse_detail("shopify", payload, "shop").shipping_address
    woo_address = woocommerce("Muang", "P1", "Soi 3", country=country).shipping_address
    for address in (shopify_address, woo_address):
        assert (address.city, address.province) == ("Muang", "P1")
        assert (address.ward, address.district, address.admin_codes, address.received) == (
            None,
            None,
            None,
            None,
        )
    given = Address(country=country, city="Chiyoda", ward="Kanda", district="D", province="Tokyo")
    assert addresses.resolved(given) is given


def test_the_operator_gives_the_ward_in_force_and_the_held_order_goes_on():
    held = lifecycle.new_order(three_levels("shopee", *DOI_CAN)).order
    result = lifecycle.resolve(held, {}, {"ward": "Phuong Ngoc Ha"})
    assert result.order.status is S.PENDING_STOCK and result.effects == [lifecycle.Placed()]
    address = result.order.shipping_address
    assert place(address) == ("Hà Nội", None, "Phường Ngọc Hà")
    assert place(address.received) == DOI_CAN  # still what the platform sent


def test_an_operator_correction_is_resolved_and_checked_like_a_platform_address():
    held = lifecycle.new_order(manual(ward="Phường Ba Đình")).order
    still = lifecycle.resolve(held, {}, {"province": "Xyz"})
    assert still.order.hold_reason == 'address_unknown: province "Xyz" not found'
    done = lifecycle.resolve(still.order, {}, {"province": "Hanoi"})
    assert done.order.status is S.PENDING_STOCK
    assert place(done.order.shipping_address) == ("Hà Nội", None, "Phường Ba Đình")


def test_resolving_a_resolved_or_held_address_changes_nothing():
    for order in (
        three_levels("manual", *PA_VI),
        three_levels("manual", *DOI_CAN),
        shopify("Phường Bến Nghé, Quận 1", "TP HCM"),
        shopify("Hà Nội", None, "Phường Ba Đình"),
    ):
        address = order.shipping_address
        assert addresses.resolved(address) == address


def test_an_address_stored_before_resolution_existed_still_loads():
    stored: dict[str, Any] = {"ward": "Phường Hoàn Kiếm", "province": "Hà Nội", "country": "VN"}
    address = Address.model_validate(stored)
    assert address.admin_codes is None and address.received is None


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Hoà Bình", "Hòa Bình"),
        ("Thuỷ Nguyên", "Thủy Nguyên"),
        ("Bà Rịa - Vũng Tàu", "Bà Rịa–Vũng Tàu"),
        ("TP. Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
        ("Tỉnh Lào Cai", "Lào Cai"),
        ("P. Bến Nghé", "Phường Bến Nghé"),
        ("Q.1", "Quận 1"),
        ("Huyện Mèo Vạc", "Mèo Vạc"),
        ("Xã Pả Vi", "Pả Vi"),
        ("Ba Dinh District", "Quận Ba Đình"),
        ("Phường 04", "P4"),
    ],
)
def test_name_keys_fold_what_differs_only_in_writing(one, other):
    a, b = names.read(one), names.read(other)
    assert a.plain == b.plain
    if "District" not in one:
        assert a.exact == b.exact
