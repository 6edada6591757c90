"""The seven channels behind one interface: verify a push, read it (a full order, or a thin
notice whose detail must be fetched), and parse a fetched detail. Pure: no I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from services.orders.adapters.platforms.lazada import parse as lazada
from services.orders.adapters.platforms.manual import parse as manual
from services.orders.adapters.platforms.payload import id_field, object_field, text
from services.orders.adapters.platforms.shopee import parse as shopee
from services.orders.adapters.platforms.shopify.parse import parse_shopify_order
from services.orders.adapters.platforms.shopify.parse import read_external_id as shopify_external_id
from services.orders.adapters.platforms.tiki import parse as tiki
from services.orders.adapters.platforms.tiktok_shop import parse as tiktok
from services.orders.adapters.platforms.woocommerce import parse as woocommerce
from services.orders.domain.errors import InvalidOrderPayload
from services.orders.domain.model import CanonicalOrder, order_id_for
from services.orders.domain.signatures import verify_hmac_sha256_base64, verify_hmac_sha256_hex
from shared.contracts.platforms import Platform

# How each platform (shared/contracts/platforms.py) tells us about its orders.
PUSH_PLATFORMS: Final[tuple[Platform, ...]] = (
    "shopify",
    "woocommerce",
    "shopee",
    "lazada",
    "tiktok-shop",
)
THIN_PLATFORMS: Final[tuple[Platform, ...]] = ("shopee", "lazada", "tiktok-shop", "tiki")
# The push carries the whole order.
FULL_PUSH_PLATFORMS: Final[tuple[Platform, ...]] = ("shopify", "woocommerce")
_ORDER_TOPICS: Final = {
    "shopify": ("x-shopify-topic", "orders/"),
    "woocommerce": ("x-wc-webhook-topic", "order."),
}


@dataclass(frozen=True)
class Account:
    platform: str
    account: str
    secrets: Sequence[str]  # newest first; two during a rotation
    settings: Mapping[str, str] = field(default_factory=dict)  # app_key, callback_url, ...

    def get(self, key: str) -> str:
        return self.settings.get(key) or ""


@dataclass(frozen=True)
class Push:
    kind: Literal["order", "fetch", "ignored"]
    delivery_id: str
    external_id: str | None = None
    order: CanonicalOrder | None = None
    note: str | None = None


def verify(account: Account, body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether the push is signed by the platform with one of the account's secrets."""
    secrets = list(account.secrets)
    match account.platform:
        case "shopify":
            return verify_hmac_sha256_base64(body, headers.get("x-shopify-hmac-sha256"), secrets)
        case "woocommerce":
            decoded = [wordpress_decoded(s) for s in secrets]
            return verify_hmac_sha256_base64(body, headers.get("x-wc-webhook-signature"), decoded)
        case "shopee":
            prefix = (account.get("callback_url") + "|").encode()
            return verify_hmac_sha256_hex(prefix + body, headers.get("authorization"), secrets)
        case "lazada" | "tiktok-shop":
            prefix = account.get("app_key").encode()
            return verify_hmac_sha256_hex(prefix + body, headers.get("authorization"), secrets)
    return False


# WooCommerce keys its HMAC with wp_specialchars_decode($secret, ENT_QUOTES): one pass over the
# entities of & < > " ' (named, decimal, and hex for & " '). Nothing else is decoded, so a secret
# holding "&copy" or "&reg;" is signed as it stands.
_WORDPRESS_SPECIAL: Final = re.compile(
    r"&(?:(amp|lt|gt|quot)|#0*(38|60|62|34|39)|#[xX]0*(26|22|27));"
)
_NAMED: Final = {"amp": "&", "lt": "<", "gt": ">", "quot": '"'}


def wordpress_decoded(secret: str) -> str:
    """The key WooCommerce signs with, from the secret as its settings store it."""

    def char(m: re.Match[str]) -> str:
        named, decimal, hexadecimal = m.groups()
        return _NAMED[named] if named else chr(int(decimal) if decimal else int(hexadecimal, 16))

    return _WORDPRESS_SPECIAL.sub(char, secret)


def is_woocommerce_ping(body: bytes) -> bool:
    """The unsigned form body `webhook_id=N` WooCommerce sends when a webhook is created."""
    key, _, value = body.partition(b"=")
    return key == b"webhook_id" and value.isdigit() and len(body) < 64


def ignored_topic(platform: str, headers: Mapping[str, str]) -> str | None:
    """Why a full push is not about an order, from its topic header alone (None: it may be)."""
    header, prefix = _ORDER_TOPICS.get(platform, ("", ""))
    topic = headers.get(header) if header else None
    return f"topic {topic}" if topic and not topic.startswith(prefix) else None


# Each full-push parser's own reading of the platform id, so the id given before parsing is the
# one the order gets.
_EXTERNAL_ID_READERS: Final[Mapping[str, Callable[[Mapping[str, Any]], str]]] = {
    "shopify": shopify_external_id,
    "woocommerce": woocommerce.read_external_id,
}


def full_push_order_id(platform: str, account: str, payload: Mapping[str, Any]) -> str | None:
    """The order id a full push will have, from its platform id alone (None if it has no usable
    one: reading the push then rejects it). Lets a queued push be logged and answered with it."""
    try:
        read = _EXTERNAL_ID_READERS[platform]
        external_id = read(payload)
    except InvalidOrderPayload:
        return None
    return order_id_for(platform, account, external_id)


def read_push(account: Account, payload: Any, headers: Mapping[str, str]) -> Push:
    """What a verified push asks of us. Raises InvalidOrderPayload for a body it cannot use."""
    return _guard(lambda: _read_push(account, payload, headers))


def _read_push(account: Account, payload: Any, headers: Mapping[str, str]) -> Push:
    if not isinstance(payload, Mapping):
        raise InvalidOrderPayload("the body must be a JSON object")
    name = account.account
    match account.platform:
        case "shopify":
            if ignored := ignored_topic("shopify", headers):
                return Push("ignored", "", note=ignored)
            order = parse_shopify_order(payload, account=name)
            delivery = headers.get("x-shopify-event-id") or headers.get("x-shopify-webhook-id")
            return Push(
                "order",
                delivery or f"order:{order.external_id}:{order.updated_at}",
                order.external_id,
                order,
            )
        case "woocommerce":
            if ignored := ignored_topic("woocommerce", headers):
                return Push("ignored", "", note=ignored)
            if str(payload.get("status")) in woocommerce.NOT_AN_ORDER:
                return Push("ignored", "", note=f"status {payload.get('status')}")
            order = woocommerce.parse_woocommerce_order(payload, account=name)
            key = f"{order.external_id}:{order.updated_at.isoformat()}:{order.channel_status}"
            return Push("order", key, order.external_id, order)
        case "shopee":
            if payload.get("code") != shopee.ORDER_STATUS_PUSH:
                return Push("ignored", "", note=f"push code {payload.get('code')!r}")
            data = object_field(payload, "data")
            sn = id_field(data.get("ordersn"), "data.ordersn")
            key = f"{sn}:{text(data.get('status'))}:{text(data.get('update_time'))}"
            return Push("fetch", key, sn)
        case "lazada":
            if payload.get("message_type") != 0:
                return Push("ignored", "", note=f"message_type {payload.get('message_type')!r}")
            data = object_field(payload, "data")
            order_id = id_field(data.get("trade_order_id"), "data.trade_order_id")
            key = ":".join(
                text(data.get(k)) or "-"
                for k in (
                    "trade_order_id",
                    "trade_order_line_id",
                    "order_status",
                    "status_update_time",
                )
            )
            return Push("fetch", key, order_id)
        case "tiktok-shop":
            if payload.get("type") != tiktok.ORDER_STATUS_CHANGE:
                return Push("ignored", "", note=f"type {payload.get('type')!r}")
            data = object_field(payload, "data")
            order_id = id_field(data.get("order_id"), "data.order_id")
            notification = text(payload.get("tts_notification_id"))
            status = text(data.get("order_status")) or ""
            key = notification or f"{order_id}:{status}:{text(data.get('update_time'))}"
            return Push("fetch", key, order_id, note=tiktok.WEBHOOK_STATUS.get(status, status))
    raise InvalidOrderPayload(f"{account.platform} has no pushes")


_DETAIL_PARSERS: Final[Mapping[str, Callable[..., CanonicalOrder]]] = {
    "shopify": parse_shopify_order,
    "woocommerce": woocommerce.parse_woocommerce_order,
    "shopee": shopee.parse_shopee_order,
    "lazada": lazada.parse_lazada_order,
    "tiktok-shop": tiktok.parse_tiktok_order,
    "tiki": tiki.parse_tiki_order,
}


def parse_detail(platform: str, detail: Any, account: str) -> CanonicalOrder:
    """The canonical order from a fetched order detail (or a full push body)."""
    parser = _DETAIL_PARSERS.get(platform)
    if parser is None:
        raise InvalidOrderPayload(f"no order parser for {platform}")
    return _guard(lambda: parser(detail, account=account))


def normalize(
    platform: str,
    payload: Any,
    headers: Mapping[str, str],
    detail: Any | None,
    account: str,
    now: datetime,
) -> CanonicalOrder:
    """What `ovop orders normalize` prints: the push (and fetched detail) as a canonical order."""
    if platform == "manual":
        return _guard(lambda: manual.parse_manual_order(payload, now=now))
    if platform in THIN_PLATFORMS:
        if detail is None:
            raise InvalidOrderPayload(f"{platform} pushes are thin: give --detail <file>")
        return parse_detail(platform, detail, account)
    push = read_push(Account(platform, account, ()), payload, headers)
    if push.order is None:
        raise InvalidOrderPayload(f"not an order: {push.note}")
    return push.order


def _guard(fn: Callable[[], Any]) -> Any:
    """A parser's unexpected error on strange input is still a payload problem, never a crash."""
    try:
        return fn()
    except InvalidOrderPayload:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        raise InvalidOrderPayload(f"unusable payload: {type(exc).__name__}: {exc}") from None


def loads(body: bytes) -> Any:
    return json.loads(body)
