"""Where the soak's buyers live: addresses the way platforms and people send them (the two
levels in force since 1 July 2025, the old three, a province only in Shopify's `city`, no
diacritics, "TP. HCM"), each with the province and ward it must become, or the precise reason it
must be held; and how each platform carries one.

The expected units are written here from the official conversion (Resolution 202/2025/QH15 and
the statistics office's ward table), not computed by the code under test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

# The 34 provinces and centrally-run cities in force, as the orders service names them.
PROVINCES_IN_FORCE: Final = frozenset(
    {
        "An Giang", "Bắc Ninh", "Cao Bằng", "Cà Mau", "Cần Thơ", "Gia Lai", "Huế", "Hà Nội",
        "Hà Tĩnh", "Hưng Yên", "Hải Phòng", "Hồ Chí Minh", "Khánh Hòa", "Lai Châu", "Lào Cai",
        "Lâm Đồng", "Lạng Sơn", "Nghệ An", "Ninh Bình", "Phú Thọ", "Quảng Ngãi", "Quảng Ninh",
        "Quảng Trị", "Sơn La", "Thanh Hóa", "Thái Nguyên", "Tuyên Quang", "Tây Ninh",
        "Vĩnh Long", "Điện Biên", "Đà Nẵng", "Đắk Lắk", "Đồng Nai", "Đồng Tháp",
    }
)  # fmt: skip
FULL_PUSH: Final = frozenset({"shopify", "woocommerce"})
CROSS_BORDER: Final = frozenset({"shopify", "woocommerce", "manual"})


@dataclass(frozen=True)
class Place:
    label: str
    province: str | None
    ward: str | None = None
    district: str | None = None
    want_province: str | None = None
    want_ward: str | None = None
    hold: str | None = None  # the exact reason the order must wait ON_HOLD with
    city: str | None = None  # Shopify / WooCommerce: the locality line exactly as typed
    line2: str | None = None
    country: str = "VN"
    postal_code: str | None = None
    channels: frozenset[str] | None = None  # who can send it this way (None: every channel)
    weight: int = 4

    def fits(self, channel: str) -> bool:
        return self.channels is None or channel in self.channels


def _new(province: str, ward: str, weight: int = 6) -> Place:
    return Place(f"{ward}, {province}", province, ward, None, province, ward, weight=weight)


def _old(province: str, district: str, ward: str, now: tuple[str, str], weight: int = 3) -> Place:
    return Place(
        f"old {ward}, {district}, {province}", province, ward, district, *now, weight=weight
    )


def _split(province: str, district: str, ward: str, old_name: str, into: str) -> Place:
    hold = f'address_ambiguous: old ward "{old_name}" split into {into}'
    return Place(f"split {ward}, {district}", province, ward, district, hold=hold, weight=1)


def _unknown(province: str, ward: str) -> Place:
    hold = f'address_unknown: ward "{ward}" not found in {province}'
    return Place(f"unknown {ward}, {province}", province, ward, hold=hold, weight=1)


PLACES: Final[tuple[Place, ...]] = (
    _new("Hà Nội", "Phường Ba Đình"),
    _new("Hồ Chí Minh", "Phường Sài Gòn"),
    _new("Cần Thơ", "Phường Ninh Kiều"),
    _new("Đà Nẵng", "Phường Hội An"),
    _new("Huế", "Phường Thuận Hóa"),
    _new("Nghệ An", "Phường Trường Vinh"),
    _new("Đắk Lắk", "Phường Buôn Ma Thuột"),
    _new("Hà Nội", "Xã Bát Tràng"),
    _new("Khánh Hòa", "Phường Nha Trang"),
    _new("Lâm Đồng", "Phường Xuân Hương - Đà Lạt"),
    _new("Tuyên Quang", "Xã Mèo Vạc"),
    _old("Hà Giang", "Huyện Mèo Vạc", "Xã Pả Vi", ("Tuyên Quang", "Xã Mèo Vạc")),
    _old("Hà Giang", "Mèo Vạc", "Pả Vi", ("Tuyên Quang", "Xã Mèo Vạc")),
    _old("Bình Dương", "Dĩ An", "Dĩ An", ("Hồ Chí Minh", "Phường Dĩ An")),
    _old("Hồ Chí Minh", "Quận 1", "Phường Bến Nghé", ("Hồ Chí Minh", "Phường Sài Gòn")),
    _old("Thừa Thiên Huế", "Thành phố Huế", "Phường Phú Hội", ("Huế", "Phường Thuận Hóa")),
    _old("Quảng Ninh", "Thành phố Hạ Long", "Phường Bạch Đằng", ("Quảng Ninh", "Phường Hồng Gai")),
    _old("Hà Nội", "Quận Hoàn Kiếm", "Phường Hàng Bạc", ("Hà Nội", "Phường Hoàn Kiếm")),
    # Shopify and WooCommerce have no Vietnamese zones: the province travels in `city`.
    Place("city Hà Nội, no province", None, want_province="Hà Nội", city="Hà Nội",
          channels=FULL_PUSH),
    Place("city Hà Nội, ward in address2", None, want_province="Hà Nội",
          want_ward="Phường Ba Đình", city="Hà Nội", line2="Phường Ba Đình", channels=FULL_PUSH),
    Place("ASCII city Phuong Ba Dinh, Ha Noi", None, want_province="Hà Nội",
          want_ward="Phường Ba Đình", city="Phuong Ba Dinh, Ha Noi", channels=FULL_PUSH),
    Place("ASCII Phuong Hoan Kiem, Ha Noi", "Ha Noi", "Phuong Hoan Kiem",
          want_province="Hà Nội", want_ward="Phường Hoàn Kiếm"),
    Place("TP. HCM, Phường Sài Gòn", "TP. HCM", "Phường Sài Gòn",
          want_province="Hồ Chí Minh", want_ward="Phường Sài Gòn"),
    Place("Thành phố Hồ Chí Minh, Phường Bến Thành", "Thành phố Hồ Chí Minh",
          "Phường Bến Thành", want_province="Hồ Chí Minh", want_ward="Phường Bến Thành"),
    _unknown("Hà Nội", "Phường Hoàn Kiếm Mới"),
    _unknown("Lâm Đồng", "Xã Núi Rồng"),
    _split("Hà Nội", "Quận Ba Đình", "Phường Đội Cấn", "Phường Đội Cấn, Quận Ba Đình",
           '"Phường Ba Đình", "Phường Ngọc Hà"'),
    _split("Hồ Chí Minh", "Quận 3", "Phường 4", "Phường 4, Quận 3",
           '"Phường Bàn Cờ", "Phường Xuân Hòa"'),
    Place("Chiang Mai, Thailand", "Chiang Mai", want_province="Chiang Mai",
          city="Mueang Chiang Mai", country="TH", postal_code="50200", channels=CROSS_BORDER,
          weight=1),
    Place("Ōita, Japan", "大分県", want_province="大分県", city="由布市", country="JP",
          postal_code="879-5102", channels=CROSS_BORDER, weight=1),
)  # fmt: skip


def locality_line(place: Place) -> str:
    """What a shop without Vietnamese zones has in `city`: as typed, else "ward, district"."""
    if place.city is not None:
        return place.city
    return ", ".join(p for p in (place.ward, place.district) if p)


def shopee_address(place: Place, name: str, phone: str, street: str) -> dict[str, Any]:
    vn = place.country == "VN"
    # In Vietnam Shopee shifts the levels: state = province, city = district, district = ward.
    return {
        "name": name,
        "phone": phone,
        "town": "",
        "district": (place.ward or "") if vn else "",
        "city": (place.district or "") if vn else (place.city or ""),
        "state": place.province or "",
        "region": place.country,
        "zipcode": place.postal_code or "",
        "full_address": f"{street}, {place.label}",
    }


def lazada_address(place: Place, given: str, family: str, phone: str, street: str):
    return {
        "first_name": given,
        "last_name": family,
        "phone": phone,
        "address1": street,
        "address2": "",
        "address3": place.province or "",
        "address4": place.district or "",
        "address5": place.ward or "",
        "city": place.district or place.province or "",
        "post_code": place.postal_code or "",
        "country": "Vietnam",
    }


def tiktok_address(place: Place, name: str, phone: str, street: str) -> dict[str, Any]:
    levels = [("L0", "Vietnam"), ("L1", place.province)]
    if place.district:
        levels += [("L2", place.district), ("L3", place.ward)]
    else:
        levels += [("L2", place.ward)]
    return {
        "name": name,
        "phone_number": phone,
        "address_line1": street,
        "address_line2": "",
        "postal_code": place.postal_code or "",
        "region_code": place.country,
        "district_info": [
            {"address_level": level, "address_name": value} for level, value in levels if value
        ],
    }


def tiki_address(place: Place, name: str, phone: str, street: str) -> dict[str, Any]:
    return {
        "full_name": name,
        "street": street,
        "ward": place.ward,
        "district": place.district,
        "region": place.province,
        "country": place.country,
        "phone": phone,
    }


def manual_address(place: Place, name: str, phone: str, street: str) -> dict[str, Any]:
    return {
        "recipient": name,
        "phone": phone,
        "line1": street,
        "line2": place.line2,
        "ward": place.ward,
        "district": place.district,
        "province": place.province or place.city,
        "country": place.country,
        "postal_code": place.postal_code,
    }
