"""Each platform's pushes and order details for a sale, in the platform's documented shape
(shared/handbook/platforms.md, and the amounts as services/orders/README.md "Amounts" reads
them), signed with tests/orders/platform_signing.py. Pure: the same sale gives the same bytes,
so a redelivery is the same request sent again."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.orders.fakes import APP_KEY
from tests.orders.platform_signing import (
    lazada_push_authorization,
    shopee_push_authorization,
    shopify_webhook_hmac,
    tiktok_webhook_authorization,
)
from tests.orders.samples import php_json, woo_request
from tests.soak.places import (
    lazada_address,
    locality_line,
    manual_address,
    shopee_address,
    tiki_address,
    tiktok_address,
)
from tests.soak.sales import Sale

VIETNAM = timedelta(hours=7)
# Seconds after the order's first view: when it was updated, partly cancelled, cancelled.
UPDATED, PARTLY_CANCELLED, CANCELLED = 60, 90, 120
_IDS = uuid.UUID("5a0c9d7e-1f2b-4c3d-8e9f-a0b1c2d3e4f5")


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def base_time(sale: Sale) -> int:
    return int(sale.placed_at.timestamp()) + 30


# --- Shopify: the full Order --------------------------------------------------------------------


def shopify_request(
    sale: Sale,
    secret: str,
    *,
    topic: str,
    after: int = 0,
    cancelled: bool = False,
    partial: tuple[int, int] | None = None,
) -> tuple[bytes, dict[str, str]]:
    at = (sale.placed_at + timedelta(seconds=30 + after)).astimezone(UTC) + VIETNAM
    stamp = at.replace(tzinfo=None).isoformat() + "+07:00"
    placed = (sale.placed_at + VIETNAM).replace(tzinfo=None).isoformat() + "+07:00"
    place, buyer = sale.place, sale.buyer
    address = {
        "first_name": buyer.given,
        "last_name": buyer.family,
        "name": f"{buyer.given} {buyer.family}",
        "phone": buyer.phone,
        "address1": buyer.street,
        "address2": place.line2,
        "city": locality_line(place),
        "province": place.province or "",
        "province_code": None,
        "country": {"VN": "Vietnam", "TH": "Thailand", "JP": "Japan"}[place.country],
        "country_code": place.country,
        "zip": place.postal_code,
    }
    discounts = sum(ln.unit_discount * ln.quantity for ln in sale.lines) + sale.shipping_discount
    tax = sale.subtotal * 8 // 108  # VAT in the prices: shown, never added
    total = str(sale.stated_total)
    payload = {
        "id": int(sale.external_id),
        "name": f"#{1000 + sale.n}",
        "order_number": 1000 + sale.n,
        "created_at": placed,
        "processed_at": placed,
        "updated_at": stamp,
        "cancelled_at": stamp if cancelled else None,
        "cancel_reason": "customer" if cancelled else None,
        "currency": "VND",
        "presentment_currency": "VND",
        "email": buyer.email,
        "tags": "zalo" if after else "",
        "subtotal_price": str(sale.subtotal),
        "total_line_items_price": str(sum(ln.product.price * ln.quantity for ln in sale.lines)),
        "total_discounts": str(discounts),
        "total_tax": str(tax),
        "taxes_included": True,
        "total_price": total,
        "total_outstanding": total,
        "financial_status": "voided" if cancelled else "pending",
        "fulfillment_status": None,
        "gateway": "Cash on Delivery (COD)",
        "payment_gateway_names": ["Cash on Delivery (COD)"],
        "line_items": [
            {
                "id": int(sale.external_id) * 10 + i,
                "variant_id": 4_000_000_000_000 + sale.n * 10 + i,
                "sku": line.channel_sku,
                "title": line.product.name,
                "name": line.product.name,
                "quantity": line.quantity,
                "price": str(line.product.price),
                "total_discount": str(line.unit_discount * line.quantity),
                "discount_allocations": [
                    {"amount": str(line.unit_discount * line.quantity), "index": 0}
                ]
                if line.unit_discount
                else [],
            }
            for i, line in enumerate(sale.lines)
        ],
        "shipping_lines": [
            {
                "title": "Giao hàng tiết kiệm",
                "price": str(sale.shipping + sale.shipping_discount),
                "discount_allocations": [{"amount": str(sale.shipping_discount), "index": 1}]
                if sale.shipping_discount
                else [],
            }
        ],
        "customer": {
            "id": 6_000_000_000_000 + sale.n,
            "email": buyer.email,
            "first_name": buyer.given,
            "last_name": buyer.family,
            "phone": buyer.phone,
        },
        "shipping_address": address,
        "billing_address": dict(address),
    }
    if partial is not None:  # an order edit: what is left of each line
        for i, item in enumerate(payload["line_items"]):
            item["current_quantity"] = sale.active(i)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    event = uuid.uuid5(_IDS, f"{sale.order_id}:{topic}:{after}")
    return body, {
        "content-type": "application/json",
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": shopify_webhook_hmac(secret, body),
        "x-shopify-shop-domain": sale.account,
        "x-shopify-api-version": "2025-07",
        "x-shopify-webhook-id": str(uuid.uuid5(_IDS, f"webhook:{event}")),
        "x-shopify-event-id": str(event),
        "x-shopify-triggered-at": stamp,
    }


# --- WooCommerce: the REST v3 order, PHP JSON --------------------------------------------------


def woocommerce_request(
    sale: Sale, secret: str, *, topic: str, after: int = 0, status: str = "processing"
) -> tuple[bytes, dict[str, str]]:
    gmt = (sale.placed_at + timedelta(seconds=30 + after)).replace(tzinfo=None)
    place, buyer = sale.place, sale.buyer
    contact = {
        "first_name": buyer.given,
        "last_name": buyer.family,
        "address_1": buyer.street,
        "address_2": place.line2 or "",
        "city": locality_line(place),
        "state": place.province or "",
        "postcode": place.postal_code or "",
        "country": place.country,
        "phone": buyer.phone,
    }
    fees = [{"id": 1, "name": "Phí thu hộ COD", "total": str(sale.fee)}] if sale.fee else []
    if sale.order_discount:
        fees.append({"id": 2, "name": "Giảm giá", "total": str(-sale.order_discount)})
    payload = {
        "id": int(sale.external_id),
        "number": sale.external_id,
        "status": status,
        "currency": "VND",
        "prices_include_tax": False,
        "date_created_gmt": sale.placed_at.replace(tzinfo=None).isoformat(timespec="seconds"),
        "date_modified_gmt": gmt.isoformat(timespec="seconds"),
        "discount_total": str(sum(ln.unit_discount * ln.quantity for ln in sale.lines)),
        "shipping_total": str(sale.shipping),
        "total_tax": "0",
        "total": str(sale.stated_total),
        "payment_method": "cod",
        "payment_method_title": "Trả tiền mặt khi nhận hàng",
        "date_paid": None,
        "billing": contact | {"email": buyer.email},
        "shipping": contact,
        "line_items": [
            {
                "id": int(sale.external_id) * 10 + i,
                "name": line.product.name,
                "quantity": line.quantity,
                "subtotal": str(line.product.price * line.quantity),
                "total": str(line.net),
                "sku": line.channel_sku,
                "price": line.net / line.quantity,
            }
            for i, line in enumerate(sale.lines)
        ],
        "fee_lines": fees,
    }
    body, headers = woo_request(payload, secret, topic=topic)
    assert body == php_json(payload)
    headers["x-wc-webhook-delivery-id"] = str(uuid.uuid5(_IDS, f"{sale.order_id}:{topic}:{after}"))
    return body, headers


# --- Shopee: thin push, detail from get_order_detail -------------------------------------------


def shopee_detail(sale: Sale, status: str, update_time: int) -> dict[str, Any]:
    buyer = sale.buyer
    phone = "84*******" + buyer.phone[-2:] if sale.masked_phone else "84" + _digits(buyer)[1:]
    items = [
        {
            "item_id": 30_000_000 + i,
            "item_name": line.product.name,
            "item_sku": "",
            "model_id": 0,
            "model_name": "",
            "model_sku": line.channel_sku,
            "model_quantity_purchased": line.quantity,
            "model_original_price": float(line.product.price),
            "model_discounted_price": float(line.product.price - line.unit_discount),
        }
        for i, line in enumerate(sale.lines)
    ]
    order = {
        "order_sn": sale.external_id,
        "region": "VN",
        "currency": "VND",
        "cod": True,
        "total_amount": float(sale.stated_total),
        "order_status": status,
        "create_time": base_time(sale),
        "update_time": update_time,
        "payment_method": "Cash on Delivery",
        "estimated_shipping_fee": 32000.0,
        "buyer_username": "k***h" if sale.masked_phone else f"khach{sale.n}",
        "recipient_address": shopee_address(sale.place, buyer.name, phone, buyer.street),
        "item_list": items,
    }
    return {"error": "", "message": "", "response": {"order_list": [order]}}


def shopee_push(
    sale: Sale, status: str, update_time: int, secret: str, callback_url: str
) -> tuple[bytes, dict[str, str]]:
    push = {
        "data": {
            "items": [],
            "ordersn": sale.external_id,
            "status": status,
            "completed_scenario": "",
            "update_time": update_time,
        },
        "shop_id": 220011,
        "code": 3,
        "timestamp": update_time,
    }
    body = _json(push)
    auth = shopee_push_authorization(secret, callback_url, body)
    return body, {"content-type": "application/json", "authorization": auth}


# --- Lazada: one push per item row, detail from /order/get + /order/items/get ------------------


def lazada_rows(sale: Sale) -> list[int]:
    count = sum(line.quantity for line in sale.lines)
    return [int(sale.external_id) % 10**9 * 10 + k for k in range(count)]


def lazada_cancelled_rows(sale: Sale) -> list[int]:
    """The item rows (one per unit) the partial cancellation cancels: its line's first ones."""
    if sale.partial is None:
        return []
    index, units = sale.partial
    first = sum(line.quantity for line in sale.lines[:index])
    return lazada_rows(sale)[first : first + units]


def lazada_detail(
    sale: Sale, status: str, update_time: int, partial: bool = False
) -> dict[str, Any]:
    buyer = sale.buyer
    row_ids = iter(lazada_rows(sale))
    cancelled = set(lazada_cancelled_rows(sale)) if partial else set()
    rows = [
        {
            "order_item_id": next(row_ids),
            "order_id": int(sale.external_id),
            "name": line.product.name,
            "sku": line.channel_sku,
            "shop_sku": f"{line.product.slug}_VNAMZ",
            "item_price": f"{line.product.price}.00",
            "paid_price": f"{line.product.price - line.unit_discount}.00",
            "currency": "VND",
            "status": status,
        }
        for line in sale.lines
        for _ in range(line.quantity)
    ]
    for row in rows:
        if row["order_item_id"] in cancelled:
            row["status"] = "canceled"
    voucher = sum(ln.unit_discount * ln.quantity for ln in sale.lines) + sale.order_discount
    when = datetime.fromtimestamp(update_time, UTC) + VIETNAM
    placed = datetime.fromtimestamp(base_time(sale), UTC) + VIETNAM
    data = {
        "order_id": int(sale.external_id),
        "order_number": int(sale.external_id),
        "created_at": f"{placed:%Y-%m-%d %H:%M:%S} +0700",
        "updated_at": f"{when:%Y-%m-%d %H:%M:%S} +0700",
        "price": f"{sum(ln.product.price * ln.quantity for ln in sale.lines)}.00",
        "shipping_fee": float(sale.shipping),
        "voucher": float(voucher),
        "payment_method": "COD",
        "customer_first_name": buyer.given,
        "customer_last_name": buyer.family,
        "statuses": sorted({row["status"] for row in rows}),
        "address_shipping": lazada_address(
            sale.place, buyer.given, buyer.family, "84" + _digits(buyer)[1:], buyer.street
        ),
    }
    return {"order": {"code": "0", "data": data}, "items": {"code": "0", "data": rows}}


def lazada_pushes(
    sale: Sale, status: str, update_time: int, secret: str, rows: list[int] | None = None
) -> list[tuple[bytes, dict[str, str]]]:
    out = []
    for row in lazada_rows(sale) if rows is None else rows:
        push = {
            "seller_id": "1234567",
            "message_type": 0,
            "data": {
                "order_status": status,
                "status_update_time": update_time,
                "trade_order_id": sale.external_id,
                "trade_order_line_id": str(row),
            },
            "timestamp": update_time * 1000,
            "site": "lazada_vn",
        }
        body = _json(push)
        auth = lazada_push_authorization(APP_KEY, secret, body)
        out.append((body, {"content-type": "application/json", "authorization": auth}))
    return out


# --- TikTok Shop: webhook type 1, detail from Get Order Detail 202309 --------------------------


def tiktok_detail(
    sale: Sale, status: str, update_time: int, partial: bool = False
) -> dict[str, Any]:
    buyer = sale.buyer
    rows = [
        {
            "id": f"{sale.external_id}-{i}-{k}",
            "sku_id": str(1_700_000_000 + i),
            "seller_sku": line.channel_sku,
            "product_name": line.product.name,
            "sale_price": str(line.product.price - line.unit_discount),
            "original_price": str(line.product.price),
            # One row per unit: a partial cancellation cancels its line's last rows.
            "display_status": "CANCELLED" if partial and k >= sale.active(i) else status,
        }
        for i, line in enumerate(sale.lines)
        for k in range(line.quantity)
    ]
    payment = {
        "currency": "VND",
        "sub_total": str(sale.subtotal),
        "shipping_fee": str(sale.shipping),
        "seller_discount": str(sum(ln.unit_discount * ln.quantity for ln in sale.lines)),
        "platform_discount": "0",
        "total_amount": str(sale.stated_total),
    }
    if sale.fee:
        payment["small_order_fee"] = str(sale.fee)
    name = "K*** H***" if sale.masked_phone else buyer.name
    phone = "(+84)9*****" + buyer.phone[-2:] if sale.masked_phone else "(+84)" + _digits(buyer)[1:]
    order = {
        "id": sale.external_id,
        "status": status,
        "create_time": base_time(sale),
        "update_time": update_time,
        "is_cod": True,
        "payment_method_name": "Cash on delivery",
        "buyer_email": "v***@scs.tiktokw.us",
        "payment": payment,
        "recipient_address": tiktok_address(sale.place, name, phone, buyer.street),
        "line_items": rows,
    }
    return {"code": 0, "message": "Success", "data": {"orders": [order]}}


def tiktok_push(
    sale: Sale, status: str, update_time: int, notification: str, secret: str
) -> tuple[bytes, dict[str, str]]:
    push = {
        "type": 1,
        "tts_notification_id": notification,
        "shop_id": "7494049642642441621",
        "timestamp": update_time,
        "data": {"order_id": sale.external_id, "order_status": status, "update_time": update_time},
    }
    body = _json(push)
    auth = tiktok_webhook_authorization(APP_KEY, secret, body)
    return body, {"content-type": "application/json", "authorization": auth}


# --- Tiki: the event queue and GET /integration/v2/orders/{code} -------------------------------


def _tiki_time(unix: int) -> str:
    return f"{datetime.fromtimestamp(unix, UTC) + VIETNAM:%Y-%m-%d %H:%M:%S}"


def tiki_detail(sale: Sale, status: str, update_time: int, partial: bool = False) -> dict[str, Any]:
    buyer = sale.buyer
    item_discounts = sum(ln.unit_discount * ln.quantity for ln in sale.lines)
    invoice = {
        "items_total": sum(ln.product.price * ln.quantity for ln in sale.lines),
        "shipping_amount_after_discount": sale.shipping,
        "discount_amount": item_discounts + sale.order_discount,
        "handling_fee": sale.fee,
        "grand_total": sale.stated_total,
        "collectible_amount": sale.stated_total - sale.prepaid,
    }
    return {
        "id": 200_000_000 + sale.n,
        "code": sale.external_id,
        "status": status,
        "created_at": _tiki_time(base_time(sale)),
        "updated_at": _tiki_time(update_time),
        "invoice": invoice,
        "payment": {"method": "cod"},
        "customer": {"full_name": buyer.name, "email": None, "phone": buyer.phone},
        "shipping": {"address": tiki_address(sale.place, buyer.name, buyer.phone, buyer.street)},
        "items": [
            {
                "id": sale.n * 10 + i,
                "product": {
                    "name": line.product.name,
                    "sku": str(2_270_000_000_000 + sale.n * 10 + i),
                    "seller_product_code": line.channel_sku,
                },
                "qty": line.quantity,
                "is_cancelled": partial and sale.active(i) == 0,
                "invoice": {
                    "price": line.product.price,
                    "row_total": line.product.price * line.quantity,
                    "discount_amount": line.unit_discount * line.quantity,
                },
            }
            for i, line in enumerate(sale.lines)
        ],
    }


def tiki_event(sale: Sale, kind: str, at: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(_IDS, f"tiki:{sale.external_id}:{kind}:{at}")),
        "type": kind,
        "created_at": _tiki_time(at),
        "payload": {"order_code": sale.external_id},
    }


# --- manual: POST /orders -------------------------------------------------------------------------


def manual_order(sale: Sale, state_total: bool) -> dict[str, Any]:
    buyer = sale.buyer
    body: dict[str, Any] = {
        "order_ref": sale.external_id,
        "account": sale.account,
        "placed_at": sale.placed_at.isoformat(),
        "lines": [
            {
                "sku": line.channel_sku,
                "name": line.product.name,
                "quantity": line.quantity,
                "unit_price": line.product.price,
                "discount": line.unit_discount * line.quantity,
            }
            for line in sale.lines
        ],
        "shipping_fee": sale.shipping,
        "discount_total": sale.order_discount,
        "payment": {"method": "cod", "paid": False},
        "buyer": {"name": buyer.name, "phone": buyer.phone, "email": buyer.email},
        "shipping_address": manual_address(sale.place, buyer.name, buyer.phone, buyer.street),
    }
    if state_total or sale.misstated:
        body["total"] = sale.stated_total
    return body


def _digits(buyer) -> str:
    return "".join(c for c in buyer.phone if c.isdigit())
