"""Payloads in each platform's documented shape (see shared/handbook/platforms.md), for the
parsers' unit tests and the fakes. Each builder takes what a test varies and fills the rest with
a realistic Vietnamese COD order."""

from __future__ import annotations

import json
from typing import Any

from tests.orders.platform_signing import (
    lazada_push_authorization,
    shopee_push_authorization,
    tiktok_webhook_authorization,
    woocommerce_webhook_signature,
)

PLACED = 1754010000  # 2025-08-01 01:00:00 UTC


def woo_order(
    order_id: int = 727,
    *,
    sku: str = "WOO-HONEY-500",
    quantity: int = 2,
    price: Any = 450000,
    status: str = "processing",
    modified: str = "2025-08-01T01:05:00",
    **over: Any,
) -> dict[str, Any]:
    line_total = (
        str(int(price) * quantity) if not isinstance(price, float) else f"{price * quantity:.2f}"
    )
    body = {
        "id": order_id,
        "number": str(order_id),
        "status": status,
        "currency": "VND",
        "date_created": "2025-08-01T08:00:00",
        "date_created_gmt": "2025-08-01T01:00:00",
        "date_modified_gmt": modified,
        "discount_total": "0",
        "shipping_total": "30000",
        "total_tax": "0",
        "total": str(int(price) * quantity + 30000) if not isinstance(price, float) else "1",
        "payment_method": "cod",
        "payment_method_title": "Thanh toán khi nhận hàng",
        "date_paid": None,
        "billing": {
            "first_name": "An",
            "last_name": "Nguyễn Văn",
            "email": "an@example.vn",
            "phone": "0912345678",
            "country": "VN",
        },
        "shipping": {
            "first_name": "An",
            "last_name": "Nguyễn Văn",
            "address_1": "12 phố Hàng Bạc",
            "address_2": "",
            "city": "Phường Hoàn Kiếm",
            "state": "Hà Nội",
            "postcode": "100000",
            "country": "VN",
            "phone": "0912345678",
        },
        "line_items": [
            {
                "id": 315,
                "name": "Mật ong bạc hà",
                "product_id": 93,
                "quantity": quantity,
                "subtotal": line_total,
                "total": line_total,
                "sku": sku,
                "price": price,
                "meta_data": [],
            }
        ],
        "meta_data": [{"id": 1, "key": "_plugin_field", "value": "ignored"}],
    }
    return body | over


def php_json(payload: dict[str, Any]) -> bytes:
    """PHP json_encode's output: compact, non-ASCII as \\uXXXX, '/' as '\\/'."""
    return (
        json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()
    )


def woo_request(payload: dict[str, Any], secret: str, topic: str = "order.updated"):
    """Signed as WooCommerce signs with `secret` as its settings store it."""
    body = php_json(payload)
    return body, {
        "content-type": "application/json",
        "x-wc-webhook-topic": topic,
        "x-wc-webhook-resource": "order",
        "x-wc-webhook-delivery-id": "8801",
        "x-wc-webhook-signature": woocommerce_webhook_signature(secret, body),
    }


def shopee_detail(
    sn: str = "250801ABCD1234",
    *,
    sku: str = "SP-HONEY-500",
    quantity: int = 2,
    price: int = 450000,
    status: str = "READY_TO_SHIP",
    update_time: int = PLACED + 300,
    phone: str = "84912345678",
) -> dict[str, Any]:
    return {
        "error": "",
        "message": "",
        "request_id": "a1b2c3",
        "response": {
            "order_list": [
                {
                    "order_sn": sn,
                    "region": "VN",
                    "currency": "VND",
                    "cod": True,
                    "total_amount": float(price * quantity + 30000),
                    "order_status": status,
                    "create_time": PLACED,
                    "update_time": update_time,
                    "payment_method": "Cash on Delivery",
                    "estimated_shipping_fee": 30000.0,
                    "buyer_username": "an.nguyen",
                    "recipient_address": {
                        "name": "Nguyễn Văn An",
                        "phone": phone,
                        "town": "",
                        "district": "Phường Hoàn Kiếm",
                        "city": "Quận Hoàn Kiếm",
                        "state": "Hà Nội",
                        "region": "VN",
                        "zipcode": "100000",
                        "full_address": "12 phố Hàng Bạc",
                    },
                    "item_list": [
                        {
                            "item_id": 1001,
                            "item_name": "Mật ong bạc hà",
                            "item_sku": "SP-ITEM",
                            "model_id": 2002,
                            "model_name": "500 g",
                            "model_sku": sku,
                            "model_quantity_purchased": quantity,
                            "model_original_price": float(price),
                            "model_discounted_price": float(price),
                            "new_field_shopee_added": {"x": 1},
                        }
                    ],
                }
            ]
        },
    }


def shopee_push(
    sn: str = "250801ABCD1234", status: str = "READY_TO_SHIP", update_time: int = PLACED + 300
) -> dict[str, Any]:
    return {
        "data": {
            "items": [],
            "ordersn": sn,
            "status": status,
            "completed_scenario": "",
            "update_time": update_time,
        },
        "shop_id": 220011,
        "code": 3,
        "timestamp": update_time,
    }


def shopee_request(payload: dict[str, Any], partner_key: str, callback_url: str):
    body = json.dumps(payload).encode()
    return body, {
        "content-type": "application/json",
        "authorization": shopee_push_authorization(partner_key, callback_url, body),
    }


def lazada_detail(
    order_id: int = 260422900198362,
    *,
    sku: str = "LZ-HONEY-500",
    units: int = 3,
    price: str = "450000.00",
    statuses: list[str] | None = None,
    updated_at: str = "2025-08-01 08:05:00 +0700",
) -> dict[str, Any]:
    statuses = statuses or ["pending"] * units
    return {
        "order": {
            "code": "0",
            "request_id": "0ba2887315178178017221014",
            "data": {
                "order_id": order_id,
                "order_number": order_id,
                "created_at": "2025-08-01 08:00:00 +0700",
                "updated_at": updated_at,
                "price": str(int(float(price)) * units) + ".00",
                "shipping_fee": 30000.00,
                "voucher": 0.00,
                "payment_method": "COD",
                "customer_first_name": "Thị Hoa",
                "customer_last_name": "Trần",
                "statuses": sorted(set(statuses)),
                "address_shipping": {
                    "first_name": "Hoa",
                    "last_name": "Trần Thị",
                    "phone": "84987654321",
                    "address1": "5 đường Lê Lợi",
                    "address2": "",
                    "address3": "Hồ Chí Minh",
                    "address4": "",
                    "address5": "Phường Sài Gòn",
                    "city": "Hồ Chí Minh",
                    "post_code": "700000",
                    "country": "Vietnam",
                },
            },
        },
        "items": {
            "code": "0",
            "data": [
                {
                    "order_item_id": 90000 + i,
                    "order_id": order_id,
                    "name": "Mật ong bạc hà 500 g",
                    "sku": sku,
                    "shop_sku": "123_VNAMZ-456",
                    "item_price": price,
                    "paid_price": price,
                    "currency": "VND",
                    "status": statuses[i],
                }
                for i in range(units)
            ],
        },
    }


def lazada_push(
    order_id: int = 260422900198362,
    line: int = 90000,
    status: str = "pending",
    update_time: int = PLACED + 300,
) -> dict[str, Any]:
    return {
        "seller_id": "1234567",
        "message_type": 0,
        "data": {
            "order_status": status,
            "status_update_time": update_time,
            "trade_order_id": str(order_id),
            "trade_order_line_id": str(line),
        },
        "timestamp": update_time * 1000,
        "site": "lazada_vn",
    }


def lazada_request(payload: dict[str, Any], app_key: str, secret: str):
    body = json.dumps(payload).encode()
    return body, {
        "content-type": "application/json",
        "authorization": lazada_push_authorization(app_key, secret, body),
    }


def tiktok_request(payload: dict[str, Any], app_key: str, secret: str):
    body = json.dumps(payload).encode()
    return body, {
        "content-type": "application/json",
        "authorization": tiktok_webhook_authorization(app_key, secret, body),
    }


def tiktok_detail(
    order_id: str = "576462686389553345",
    *,
    sku: str = "TT-HONEY-500",
    units: int = 2,
    price: int = 450000,
    status: str = "AWAITING_SHIPMENT",
    cancelled_units: int = 0,
    update_time: int = PLACED + 300,
) -> dict[str, Any]:
    return {
        "code": 0,
        "message": "Success",
        "request_id": "2023",
        "data": {
            "orders": [
                {
                    "id": order_id,
                    "status": status,
                    "create_time": PLACED,
                    "update_time": update_time,
                    "is_cod": True,
                    "payment_method_name": "Cash on delivery",
                    "buyer_email": "v***@scs.tiktokw.us",
                    "payment": {
                        "currency": "VND",
                        "sub_total": str(price * units),
                        "shipping_fee": "30000",
                        "seller_discount": "0",
                        "platform_discount": "0",
                        "total_amount": str(price * units + 30000),
                    },
                    "recipient_address": {
                        "name": "Lê Minh Tuấn",
                        "phone_number": "(+84)912345678",
                        "address_line1": "ngõ 12 đường Trần Phú",
                        "address_line2": "",
                        "postal_code": "",
                        "region_code": "VN",
                        "district_info": [
                            {"address_level": "L0", "address_name": "Vietnam"},
                            {"address_level": "L1", "address_name": "Đà Nẵng"},
                            {"address_level": "L2", "address_name": "Phường Hội An"},
                        ],
                    },
                    "line_items": [
                        {
                            "id": f"li-{i}",
                            "sku_id": "1729582718312380000",
                            "seller_sku": sku,
                            "product_name": "Mật ong bạc hà",
                            "sale_price": str(price),
                            "original_price": str(price),
                            "display_status": "CANCELLED" if i < cancelled_units else status,
                        }
                        for i in range(units)
                    ],
                }
            ]
        },
    }


def tiktok_push(
    order_id: str = "576462686389553345",
    status: str = "AWAITING_SHIPMENT",
    notification: str = "7327112393057371910",
) -> dict[str, Any]:
    return {
        "type": 1,
        "tts_notification_id": notification,
        "shop_id": "7494049642642441621",
        "timestamp": PLACED + 300,
        "data": {"order_id": order_id, "order_status": status, "update_time": PLACED + 300},
    }


def tiki_order(
    code: str = "837145126",
    *,
    sku: str = "TK-HONEY-500",
    qty: int = 2,
    price: int = 450000,
    status: str = "queueing",
    updated_at: str = "2025-08-01 08:05:00",
) -> dict[str, Any]:
    return {
        "id": 123456,
        "code": code,
        "status": status,
        "created_at": "2025-08-01 08:00:00",
        "updated_at": updated_at,
        "invoice": {
            "items_total": price * qty,
            "shipping_amount_after_discount": 30000,
            "discount_amount": 0,
            "grand_total": price * qty + 30000,
            "collectible_amount": price * qty,  # the rest was paid beforehand (Tiki Xu)
        },
        "payment": {"method": "cod"},
        "customer": {"full_name": "Phạm Quốc Bảo", "email": None},
        "shipping": {
            "address": {
                "full_name": "Phạm Quốc Bảo",
                "street": "3 đường Nguyễn Huệ",
                "ward": "Phường Thuận Hóa",
                "district": None,
                "region": "Huế",
                "country": "VN",
                "phone": "0934567890",
            }
        },
        "items": [
            {
                "id": 77,
                "product": {
                    "name": "Mật ong bạc hà",
                    "sku": "4512345678901",
                    "seller_product_code": sku,
                },
                "qty": qty,
                "invoice": {"price": price, "row_total": price * qty, "discount_amount": 0},
            }
        ],
    }
