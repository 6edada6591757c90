"""The time zone a producer reads times in, by country (OVOP programmes across APEC)."""

from __future__ import annotations

COUNTRY_TIMEZONES: dict[str, str] = {
    "VN": "Asia/Ho_Chi_Minh",
    "TH": "Asia/Bangkok",
    "JP": "Asia/Tokyo",
    "ID": "Asia/Jakarta",
    "PH": "Asia/Manila",
    "CN": "Asia/Shanghai",
    "MY": "Asia/Kuala_Lumpur",
    "LA": "Asia/Vientiane",
    "KH": "Asia/Phnom_Penh",
}


def timezone_for_country(country: str, default: str = "Asia/Ho_Chi_Minh") -> str:
    return COUNTRY_TIMEZONES.get(country.upper(), default)
