"""Realistic Shopify webhooks from a Vietnamese COD shop, for load tests and demos.

Pure builders only (no network, no clock): the same arguments always give the same bytes, so a
redelivery is simulated by sending the same request twice.
"""

from __future__ import annotations

import json
import random
import unicodedata
import uuid
import zlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from services.orders.domain.signatures import sign_hmac_sha256_base64

# Above 2^53 (like real Shopify ids can be) and below 2^63, so JSON number parsers that use
# doubles would corrupt them: the parser must keep them as strings.
ORDER_ID_BASE: Final = 7_340_000_000_000_000_000
LINE_ITEM_ID_BASE: Final = 7_350_000_000_000_000_000
VARIANT_ID_BASE: Final = 7_360_000_000_000_000_000
CUSTOMER_ID_BASE: Final = 7_370_000_000_000_000_000
DEFAULT_SHOP: Final = "lang-gom-bat-trang.myshopify.com"
COD_GATEWAY: Final = "Cash on Delivery (COD)"
_VIETNAM: Final = timezone(timedelta(hours=7))
_FIRST_ORDER_AT: Final = datetime(2025, 8, 1, 8, 0, tzinfo=_VIETNAM)
_WEBHOOK_NAMESPACE: Final = uuid.UUID("0b5e7d8c-2f41-5a63-8e9d-4c1a2b3f6e70")

_FAMILY_NAMES: Final = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Đặng",
    "Bùi",
)
_MIDDLE_AND_GIVEN: Final = (
    ("Văn", "An"),
    ("Thị", "Hoa"),
    ("Minh", "Tuấn"),
    ("Thu", "Hà"),
    ("Quốc", "Bảo"),
    ("Ngọc", "Lan"),
    ("Đức", "Thắng"),
    ("Thị", "Hằng"),
    ("Hữu", "Phước"),
    ("Thanh", "Hương"),
)
# (ward, province, postal code) in the two-tier system in force since 1 July 2025.
_PLACES: Final = (
    ("Phường Hoàn Kiếm", "Hà Nội", "100000"),
    ("Xã Bát Tràng", "Hà Nội", "131000"),
    ("Phường Sài Gòn", "Hồ Chí Minh", "700000"),
    ("Phường Hội An", "Đà Nẵng", "560000"),
    ("Phường Thuận Hóa", "Huế", "530000"),
    ("Phường Ninh Kiều", "Cần Thơ", "900000"),
)
_STREETS: Final = ("phố Hàng Bạc", "đường Lê Lợi", "ngõ 12 đường Trần Phú", "đường Nguyễn Huệ")
_MOBILE_PREFIXES: Final = ("090", "091", "093", "094", "096", "097", "098", "086", "032", "070")


def build_shopify_order(
    *,
    order_number: int,
    sku: str,
    quantity: int,
    unit_price_vnd: int,
    buyer: dict[str, Any] | None = None,
    rng: random.Random | None = None,
    placed_at: datetime | None = None,
) -> dict[str, Any]:
    """A Shopify `orders/create` Order body: one line, VND, cash on delivery, unpaid.

    `buyer` overrides generated fields (first_name, last_name, phone, email, address1, city,
    province, zip). `rng` defaults to one seeded with `order_number`, and `placed_at` to a fixed
    time derived from it, so the same order number always gives the same order.
    """
    if order_number <= 0 or quantity <= 0 or unit_price_vnd < 0:
        raise ValueError("order_number and quantity must be positive, unit_price_vnd not negative")
    rng = rng or random.Random(order_number)
    people = _generated_buyer(rng, order_number) | (buyer or {})
    at = (placed_at or _FIRST_ORDER_AT + timedelta(minutes=order_number)).isoformat(
        timespec="seconds"
    )
    order_id = ORDER_ID_BASE + order_number
    subtotal = unit_price_vnd * quantity
    shipping = rng.choice((20000, 25000, 30000))
    total = subtotal + shipping
    address = {
        "first_name": people["first_name"],
        "last_name": people["last_name"],
        # Shopify's "first last" display name, which reverses Vietnamese names.
        "name": f"{people['first_name']} {people['last_name']}",
        "phone": people["phone"],
        "address1": people["address1"],
        "address2": None,
        "city": people["city"],
        "province": people["province"],
        "province_code": None,
        "country": "Vietnam",
        "country_code": "VN",
        "zip": people["zip"],
        "company": None,
    }
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_number}",
        "order_number": order_number,
        "confirmation_number": f"VN{order_number:07d}",
        "created_at": at,
        "updated_at": at,
        "processed_at": at,
        "cancelled_at": None,
        "cancel_reason": None,
        "closed_at": None,
        "test": False,
        "confirmed": True,
        "source_name": "web",
        "tags": "",
        "note": None,
        "email": people["email"],
        "contact_email": people["email"],
        "phone": None,
        "currency": "VND",
        "presentment_currency": "VND",
        # VND has no minor unit, so Shopify's decimal strings carry no decimals.
        "subtotal_price": str(subtotal),
        "total_line_items_price": str(subtotal),
        "total_discounts": "0",
        "total_tax": "0",
        "taxes_included": True,
        "total_price": str(total),
        "total_outstanding": str(total),
        "total_shipping_price_set": _money_set(shipping),
        "total_price_set": _money_set(total),
        "financial_status": "pending",
        "fulfillment_status": None,
        "gateway": COD_GATEWAY,
        "payment_gateway_names": [COD_GATEWAY],
        "line_items": [
            {
                "id": LINE_ITEM_ID_BASE + order_number,
                "variant_id": VARIANT_ID_BASE + zlib.crc32(sku.encode()),
                "sku": sku,
                "title": f"Sản phẩm OCOP {sku}",
                "name": f"Sản phẩm OCOP {sku}",
                "variant_title": None,
                "vendor": "Làng nghề Bát Tràng",
                "quantity": quantity,
                "fulfillable_quantity": quantity,
                "requires_shipping": True,
                "grams": 500,
                "price": str(unit_price_vnd),
                "price_set": _money_set(unit_price_vnd),
                "total_discount": "0",
                "discount_allocations": [],
                "tax_lines": [],
            }
        ],
        "shipping_lines": [
            {"title": "Giao hàng tiêu chuẩn", "code": "standard", "price": str(shipping)}
        ],
        "customer": {
            "id": CUSTOMER_ID_BASE + rng.randrange(1_000_000),
            "email": people["email"],
            "first_name": people["first_name"],
            "last_name": people["last_name"],
            "phone": people["phone"],
            "currency": "VND",
        },
        "shipping_address": address,
        "billing_address": dict(address),
    }


def shopify_webhook_request(
    payload: dict[str, Any],
    secret: str,
    *,
    shop_domain: str = DEFAULT_SHOP,
    topic: str = "orders/create",
    api_version: str = "2025-07",
) -> tuple[bytes, dict[str, str]]:
    """The exact body bytes and headers Shopify would POST for `payload`, signed with `secret`.

    The event and webhook ids derive from (shop, topic, order id, updated_at): sending the same
    payload again is a redelivery, while an update with a newer `updated_at` is a new event.
    """
    # Compact UTF-8 JSON. The signature covers these exact bytes: receivers must not re-encode.
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    event = [shop_domain, topic, str(payload.get("id")), str(payload.get("updated_at"))]
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign_hmac_sha256_base64(body, secret),
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-API-Version": api_version,
        "X-Shopify-Webhook-Id": str(
            uuid.uuid5(_WEBHOOK_NAMESPACE, json.dumps(["webhook", *event]))
        ),
        "X-Shopify-Event-Id": str(uuid.uuid5(_WEBHOOK_NAMESPACE, json.dumps(["event", *event]))),
        "X-Shopify-Triggered-At": str(payload.get("updated_at")),
    }
    return body, headers


def _generated_buyer(rng: random.Random, order_number: int) -> dict[str, Any]:
    family = rng.choice(_FAMILY_NAMES)
    middle, given = rng.choice(_MIDDLE_AND_GIVEN)
    ward, province, postal_code = rng.choice(_PLACES)
    digits = f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10_000_000):07d}"
    return {
        # Shopify semantics: first_name is the given name, last_name the rest (family + middle).
        "first_name": given,
        "last_name": f"{family} {middle}",
        "phone": f"{digits[:4]} {digits[4:7]} {digits[7:]}",  # typed nationally: "0912 345 678"
        "email": f"{_ascii(given)}.{_ascii(family)}{order_number}@example.com",
        "address1": f"Số {rng.randrange(1, 200)} {rng.choice(_STREETS)}",
        "city": ward,
        "province": province,
        "zip": postal_code,
    }


def _money_set(amount: int) -> dict[str, dict[str, str]]:
    money = {"amount": str(amount), "currency_code": "VND"}
    return {"shop_money": money, "presentment_money": dict(money)}


def _ascii(text: str) -> str:
    # "đ" has no decomposition, so it is mapped by hand before the accents are stripped.
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def build_woocommerce_order(
    *, order_number: int, sku: str, quantity: int, unit_price_vnd: int
) -> dict[str, Any]:
    """A WooCommerce `order.created` body (REST v3 order) from a Vietnamese COD shop whose
    product SKUs are the catalogue's own."""
    if order_number <= 0 or quantity <= 0 or unit_price_vnd < 0:
        raise ValueError("order_number and quantity must be positive, unit_price_vnd not negative")
    rng = random.Random(order_number)
    people = _generated_buyer(rng, order_number)
    at = (_FIRST_ORDER_AT + timedelta(minutes=order_number)).astimezone(UTC)
    gmt = at.replace(tzinfo=None).isoformat(timespec="seconds")
    shipping = rng.choice((20000, 25000, 30000))
    contact = {
        "first_name": people["first_name"],
        "last_name": people["last_name"],
        "address_1": people["address1"],
        "address_2": "",
        "city": people["city"],
        "state": people["province"],
        "postcode": people["zip"],
        "country": "VN",
        "phone": people["phone"],
    }
    return {
        "id": order_number,
        "number": str(order_number),
        "status": "processing",  # COD orders start here, unpaid
        "currency": "VND",
        "date_created_gmt": gmt,
        "date_modified_gmt": gmt,
        "discount_total": "0",
        "shipping_total": str(shipping),
        "total_tax": "0",
        "total": str(unit_price_vnd * quantity + shipping),
        "payment_method": "cod",
        "payment_method_title": "Trả tiền mặt khi nhận hàng",
        "date_paid": None,
        "billing": contact | {"email": people["email"]},
        "shipping": contact,
        "line_items": [
            {
                "id": order_number * 10,
                "name": f"Sản phẩm OCOP {sku}",
                "quantity": quantity,
                "subtotal": str(unit_price_vnd * quantity),
                "total": str(unit_price_vnd * quantity),
                "sku": sku,
                "price": unit_price_vnd,
            }
        ],
    }


def woocommerce_webhook_request(
    payload: dict[str, Any], secret: str, *, topic: str = "order.created"
) -> tuple[bytes, dict[str, str]]:
    """The body as PHP's json_encode writes it (\\uXXXX, escaped slashes) and WooCommerce's
    headers, signed with the webhook secret."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")
    body = text.encode()
    return body, {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": topic.split(".")[-1],
        "X-WC-Webhook-Delivery-ID": str(zlib.crc32(body)),
        "X-WC-Webhook-Signature": sign_hmac_sha256_base64(body, secret),
    }
