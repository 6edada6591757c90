"""`POST /webhooks/shopify/{account}`: verify, store, publish. Anything wrong with the request
is refused with a precise 4xx before anything is stored, and counted by reason."""

from __future__ import annotations

import json

import asyncpg
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.orders import handlers
from services.orders.adapters import postgres as db
from services.orders.domain.channels.shopify import parse_shopify_order
from services.orders.domain.errors import OrderError
from services.orders.domain.signatures import verify_hmac_sha256_base64
from shared.contracts.envelope import Envelope
from shared.messaging import outbox
from shared.metrics import REQUESTS_REJECTED

log = structlog.get_logger(__name__)
MAX_BODY_BYTES = 1024 * 1024
ENDPOINT = "webhooks/shopify"


class Refused(Exception):
    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


async def read_capped_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, "body_too_large", f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(413, "body_too_large", f"body over {limit} bytes")
    return bytes(body)


async def receive_shopify_webhook(request: Request, pool: asyncpg.Pool) -> Response:
    account = request.path_params["account"]
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service="orders", channel="shopify", account=account)
    try:
        return await _receive(request, pool, account)
    except Refused as refused:
        REQUESTS_REJECTED.labels("orders", ENDPOINT, refused.reason).inc()
        log.warning("webhook.refused", reason=refused.reason, detail=refused.detail)
        return JSONResponse(
            {"error": refused.reason, "detail": refused.detail}, status_code=refused.status
        )


async def _receive(request: Request, pool: asyncpg.Pool, account: str) -> Response:
    body = await read_capped_body(request)
    async with pool.acquire() as conn:
        secrets = await db.channel_secrets(conn, "shopify", account)
    if secrets is None:
        raise Refused(404, "unknown_account", f"no shopify account {account!r}")
    if not verify_hmac_sha256_base64(body, request.headers.get("x-shopify-hmac-sha256"), secrets):
        raise Refused(401, "bad_signature", "X-Shopify-Hmac-Sha256 missing or not valid")
    topic = request.headers.get("x-shopify-topic")
    if topic and not topic.startswith("orders/"):
        # Signed, but not about an order (e.g. app/uninstalled): acknowledge it, so that Shopify
        # does not retry it and, after repeated failures, disable the webhook.
        log.info("webhook.ignored_topic", topic=topic)
        return JSONResponse({"outcome": "ignored_topic", "topic": topic})
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused(400, "malformed_json", f"body is not JSON: {exc}") from None
    try:
        order = parse_shopify_order(payload, account=account)
    except OrderError as exc:
        raise Refused(422, "invalid_order", str(exc)) from None
    delivery_id = (
        request.headers.get("x-shopify-event-id")
        or request.headers.get("x-shopify-webhook-id")
        or f"order:{order.external_id}:{order.updated_at.isoformat()}"
    )
    structlog.contextvars.bind_contextvars(order_id=order.order_id, correlation_id=order.order_id)
    async with pool.acquire() as conn, conn.transaction():
        accepted = await handlers.accept_order(
            conn,
            order,
            delivery_id=delivery_id,
            topic=topic,
            raw_body=body,
        )
        for event in accepted.events:
            env = Envelope.wrap(
                event,
                producer=handlers.SERVICE,
                correlation_id=order.order_id,
                event_id=handlers.event_id_for(order.order_id, event.event_type),
            )
            await outbox.enqueue(conn, env, event)
    log.info("webhook.accepted", outcome=accepted.outcome)
    return JSONResponse({"order_id": accepted.order_id, "outcome": accepted.outcome})
