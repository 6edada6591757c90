"""`POST /webhooks/{platform}/{account}`: verify, persist, answer fast.

A full-order push (Shopify, WooCommerce) is verified, stored in the webhook queue and
acknowledged; the `apply_webhooks` job turns it into an order (services/orders/webhook_queue.py).
A thin push (Shopee, Lazada, TikTok Shop) is persisted as a pending fetch and acknowledged; the
fetch job gets the order detail. What the request itself gets wrong (size, signature, account,
JSON) is refused with a precise 4xx before anything is stored, and counted by reason; an order
the queue cannot read becomes a dead-letter entry with the parser's reason. When the queue is
over its limit, pushes are refused with 503 and Retry-After, and the platform sends them again.

The account is percent-encoded in the URL (it may hold spaces, `/` or Vietnamese letters) and is
looked up exactly as the URL names it: that is the name the account was registered under.
"""

from __future__ import annotations

import asyncpg
import pydantic_core
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.orders.adapters import postgres as db
from services.orders.adapters.platforms.registry import (
    CHANNELS,
    Account,
    Channel,
    full_push_order_id,
    read_push,
    verify,
)
from services.orders.adapters.webhook_queue import QueueWriter, Received
from services.orders.domain.errors import OrderError
from services.orders.metrics import WEBHOOKS_ACCEPTED
from services.orders.state import AccountCache, State
from shared.contracts.identifiers import identifier
from shared.http import Refused, read_body, refusal

log = structlog.get_logger(__name__)
MAX_BODY_BYTES = 1024 * 1024


async def verified_account(
    pool: asyncpg.Pool, accounts: AccountCache, platform: str, name: str, body: bytes, headers
) -> Account:
    cached = accounts.get(platform, name)
    if cached is not None and verify(cached, body, headers):
        return cached
    async with pool.acquire() as conn:
        account = await db.get_account(conn, platform, name)
    if account is None:
        raise Refused(404, "unknown_account", f"no {platform} account {name!r}")
    accounts.put(account)
    if not verify(account, body, headers):
        raise Refused(401, "bad_signature", "signature missing or not valid")
    return account


async def receive_webhook(
    request: Request, pool: asyncpg.Pool, writer: QueueWriter, queue_limit: int, state: State
) -> Response:
    platform, account = request.path_params["platform"], request.path_params["account"]
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service="orders", channel=platform, account=account)
    channel = CHANNELS.pushing(platform)
    try:
        if channel is None:
            raise Refused(404, "unknown_platform", f"{platform!r} sends no webhooks")
        try:
            identifier(account)
        except ValueError as exc:
            raise Refused(404, "unknown_account", f"account {account!r} {exc}") from None
        return await _receive(request, pool, writer, queue_limit, state, channel, account)
    except Refused as refused:
        endpoint = f"webhooks/{platform if channel is not None else '-'}"
        return refusal("orders", endpoint, refused)


async def _receive(
    request: Request,
    pool: asyncpg.Pool,
    writer: QueueWriter,
    queue_limit: int,
    state: State,
    channel: Channel,
    name: str,
) -> Response:
    """No connection is held across the request: a full push is written by the queue's
    group-commit writer with other requests' pushes; only the rarer paths take their own."""
    platform = channel.name
    body = await read_body(request, MAX_BODY_BYTES)
    if channel.is_ping(body):
        # Sent unsigned when the webhook is created; anything but 2xx counts as a failure.
        log.info("webhook.ping")
        return JSONResponse({"outcome": "ping"})
    # A plain dict: Starlette's Headers scan the raw header list on every lookup. Reversed, so
    # that a repeated header keeps its first value, as Headers.get gives.
    headers = dict(reversed(request.headers.items()))
    account = await verified_account(pool, state.accounts, platform, name, body, headers)
    if channel.intake == "full_push":
        return await _queue(writer, queue_limit, state, channel, name, headers, body)
    try:
        # pydantic's Rust parser refuses nesting over 200 deep (bench/webhooks.py times it).
        payload = pydantic_core.from_json(body)
    except ValueError as exc:
        raise Refused(400, "malformed_json", f"body is not JSON: {exc}") from None
    try:
        push = read_push(account, payload, headers)
    except OrderError as exc:
        raise Refused(422, "invalid_order", str(exc)) from None
    if push.kind == "ignored":
        return _ignored(push.note or "")
    assert push.kind == "fetch" and push.external_id is not None
    async with pool.acquire() as conn:  # one statement: a transaction of its own
        fresh = await db.add_fetch(conn, platform, name, push.external_id, push.delivery_id)
    state.fetch_wake.set()
    return _accepted(platform, "pending_fetch" if fresh else "duplicate_delivery")


async def _queue(
    writer: QueueWriter,
    queue_limit: int,
    state: State,
    channel: Channel,
    name: str,
    headers: dict[str, str],
    body: bytes,
) -> Response:
    platform = channel.name
    try:
        # The whole body is checked to be JSON, but only the id is built into Python objects:
        # reading the rest is the apply job's work.
        head = channel.push_head(body)
    except pydantic_core.ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] == "json_invalid":
            raise Refused(400, "malformed_json", f"body is not JSON: {error['msg']}") from None
        raise Refused(422, "invalid_order", "the body must be a JSON object") from None
    if note := channel.ignored_topic(headers):
        return _ignored(note)
    if state.queue_depth.over(queue_limit):
        detail = f"{queue_limit} pushes wait already; send it later"
        raise Refused(503, "queue_full", detail, headers={"retry-after": "60"})
    order_id = full_push_order_id(channel, name, head)
    delivery = channel.delivery(headers)
    structlog.contextvars.bind_contextvars(order_id=order_id, correlation_id=order_id or delivery)
    # The platform's own headers only (topic, event id, signature): what reading the push needs.
    own = {k: v for k, v in headers.items() if k.startswith("x-")}
    await writer.put(Received(platform, name, own, body))
    state.queue_depth.added()
    state.webhook_wake.set()
    return _accepted(platform, "queued", order_id)


def _ignored(note: str) -> Response:
    # Signed but not about an order: acknowledge so that the platform does not retry it and,
    # after repeated failures, disable the webhook.
    log.info("webhook.ignored", note=note)
    outcome = "ignored_topic" if note.startswith("topic ") else "ignored"
    return JSONResponse({"outcome": outcome, "detail": note})


def _accepted(platform: str, outcome: str, order_id: str | None = None) -> Response:
    WEBHOOKS_ACCEPTED.labels(platform, outcome).inc()
    log.info("webhook.accepted", outcome=outcome)
    return Response(
        pydantic_core.to_json({"order_id": order_id, "outcome": outcome}),
        media_type="application/json",
    )
