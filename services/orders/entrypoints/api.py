"""The orders API (admin bearer token on every route: orders carry buyers' personal data).

GET /orders (filters: status, channel, account, producer, since, until, limit),
GET /orders/{id} (with its history), POST /orders (a manual order), POST /orders/import (CSV),
POST /orders/{id}/cancel ({"reason": ..., "lines": {"<sku>": <units>}} or the whole order),
POST /orders/{id}/resolve ({"skus": {"<channel sku>": "<sku>"}, "address": {"province": ...,
"ward": ...}, "accept_amounts": true}: an ON_HOLD order fixed and sent on).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.orders import handlers
from services.orders.adapters import postgres as db
from services.orders.adapters.platforms.manual.parse import parse_manual_csv, parse_manual_order
from services.orders.domain.errors import OrderError
from services.orders.domain.status import OrderStatus
from shared.contracts.identifiers import identifier
from shared.contracts.platforms import platform_named
from shared.http import Handler, Refused, check_admin, read_body, refusal, route

log = structlog.get_logger(__name__)
MAX_LIMIT = 1000
MAX_BODY_BYTES = 1024 * 1024
MAX_CSV_BYTES = 5 * 1024 * 1024


def order_json(order, history=None) -> dict[str, Any]:
    body = order.model_dump(mode="json")
    if history is not None:
        body["history"] = [{**h, "changed_at": h["changed_at"].isoformat()} for h in history]
    return body


def _time_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise Refused(400, "bad_query", f"{name} must be an ISO 8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _json_body(request: Request) -> Any:
    body = await read_body(request, MAX_BODY_BYTES)
    try:
        return json.loads(body) if body.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise Refused(400, "malformed_json", f"body is not JSON: {exc}") from None


@dataclass(frozen=True)
class OrdersApi:
    """What the API's handlers need. Both are read per request: the pool opens when the service
    starts, after its routes are built."""

    pool: Callable[[], asyncpg.Pool]
    admin_token: Callable[[], str | None]


Endpoint = Callable[[Request, asyncpg.Pool], Awaitable[Response]]


def guarded(endpoint: str) -> Callable[[Endpoint], Handler[OrdersApi]]:
    """An admin-only handler: its refusals are answered and counted under `endpoint`."""

    def wrap(fn: Endpoint) -> Handler[OrdersApi]:
        @functools.wraps(fn)
        async def handler(request: Request, deps: OrdersApi) -> Response:
            try:
                check_admin(request, deps.admin_token())
                return await fn(request, deps.pool())
            except Refused as refused:
                return refusal("orders", endpoint, refused)

        return handler

    return wrap


@guarded("orders/list")
async def list_orders(request: Request, pool: asyncpg.Pool) -> Response:
    q = request.query_params
    status = q.get("status")
    if status and status.upper() not in OrderStatus.__members__:
        raise Refused(400, "bad_query", f"unknown status {status!r}")
    limit = q.get("limit", "100")
    if not limit.isdigit() or not 0 < int(limit) <= MAX_LIMIT:
        raise Refused(400, "bad_query", f"limit must be 1..{MAX_LIMIT}")
    channel = q.get("channel")
    try:
        channel = platform_named(channel) if channel else None
    except ValueError as exc:
        raise Refused(400, "bad_query", f"channel: {exc}") from None
    async with pool.acquire() as conn:
        orders = await db.list_orders(
            conn,
            status=status.upper() if status else None,
            channel=channel,
            account=q.get("account"),
            producer=q.get("producer"),
            since=_time_param(request, "since"),
            until=_time_param(request, "until"),
            limit=int(limit),
        )
    return JSONResponse({"orders": [order_json(o) for o in orders]})


@guarded("orders/show")
async def show_order(request: Request, pool: asyncpg.Pool) -> Response:
    order_id = request.path_params["order_id"]
    async with pool.acquire() as conn:
        order = await db.get_order(conn, order_id)
        history = await db.status_history(conn, order_id)
    if order is None:
        raise Refused(404, "not_found", f"no order {order_id}")
    return JSONResponse(order_json(order, history))


@guarded("orders/create")
async def create_order(request: Request, pool: asyncpg.Pool) -> Response:
    body = await _json_body(request)
    if isinstance(body, dict) and not body.get("order_ref") and not body.get("external_id"):
        body["order_ref"] = f"M-{uuid.uuid4().hex[:10].upper()}"
    try:
        order = parse_manual_order(body, now=datetime.now(UTC))
    except OrderError as exc:
        raise Refused(422, "invalid_order", str(exc)) from None
    async with pool.acquire() as conn, conn.transaction():
        accepted = await handlers.ingest(conn, order, source="manual:api")
        await handlers.enqueue_all(conn, accepted.events, order.order_id)
    return JSONResponse(
        {"order_id": order.order_id, "outcome": accepted.outcome, "status": accepted.status},
        201 if accepted.outcome == "created" else 200,
    )


@guarded("orders/import")
async def import_orders(request: Request, pool: asyncpg.Pool) -> Response:
    raw = await read_body(request, MAX_CSV_BYTES)
    try:
        text = raw.decode("utf-8-sig")
        orders, errors = parse_manual_csv(text, now=datetime.now(UTC))
    except UnicodeDecodeError:
        raise Refused(400, "malformed_csv", "the CSV must be UTF-8") from None
    except OrderError as exc:
        raise Refused(422, "invalid_csv", str(exc)) from None
    results = []
    async with pool.acquire() as conn, conn.transaction():
        for order in orders:
            accepted = await handlers.ingest(conn, order, source="manual:import")
            await handlers.enqueue_all(conn, accepted.events, order.order_id)
            results.append(
                {
                    "order_ref": order.external_id,
                    "order_id": order.order_id,
                    "outcome": accepted.outcome,
                    "status": accepted.status,
                }
            )
    status = 200 if results or not errors else 422
    return JSONResponse({"orders": results, "errors": errors}, status)


@guarded("orders/cancel")
async def cancel(request: Request, pool: asyncpg.Pool) -> Response:
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise Refused(422, "invalid_request", "the body must be a JSON object")
    reason = body.get("reason") or "cancelled by the operator"
    lines = body.get("lines")
    if lines is not None and not (
        isinstance(lines, dict)
        and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v < 10**6 for v in lines.values()
        )
    ):
        raise Refused(422, "invalid_request", "lines must map SKUs to positive units")
    order_id = request.path_params["order_id"]
    try:
        async with pool.acquire() as conn, conn.transaction():
            accepted = await handlers.cancel_order(
                conn, order_id, str(reason)[:500], lines, "operator:api"
            )
            await handlers.enqueue_all(conn, accepted.events, order_id)
    except LookupError:
        raise Refused(404, "not_found", f"no order {order_id}") from None
    return JSONResponse(
        {"order_id": order_id, "outcome": accepted.outcome, "status": accepted.status}
    )


@guarded("orders/resolve")
async def resolve(request: Request, pool: asyncpg.Pool) -> Response:
    skus, address, accept_amounts = _resolution(await _json_body(request))
    order_id = request.path_params["order_id"]
    try:
        async with pool.acquire() as conn, conn.transaction():
            accepted = await handlers.resolve_order(
                conn, order_id, skus, address, "operator:api", accept_amounts
            )
            await handlers.enqueue_all(conn, accepted.events, order_id)
    except LookupError:
        raise Refused(404, "not_found", f"no order {order_id}") from None
    except OrderError as exc:
        raise Refused(422, "invalid_request", str(exc)) from None
    if accepted.outcome == "not_on_hold":
        raise Refused(409, "not_on_hold", f"order {order_id} is {accepted.status}")
    return JSONResponse(
        {
            "order_id": order_id,
            "outcome": accepted.outcome,
            "status": accepted.status,
            "hold_reason": accepted.hold_reason,
        }
    )


def routes(
    get_pool: Callable[[], asyncpg.Pool], get_token: Callable[[], str | None]
) -> list[Route]:
    api = OrdersApi(get_pool, get_token)
    return [
        route("/orders", list_orders, api, methods=["GET"]),
        route("/orders", create_order, api, methods=["POST"]),
        route("/orders/import", import_orders, api, methods=["POST"]),
        route("/orders/{order_id}", show_order, api, methods=["GET"]),
        route("/orders/{order_id}/cancel", cancel, api, methods=["POST"]),
        route("/orders/{order_id}/resolve", resolve, api, methods=["POST"]),
        route("/admin/orders/{order_id}", show_order, api, methods=["GET"]),
    ]


RESOLVABLE_ADDRESS_FIELDS = frozenset({"province", "district", "ward", "line1", "line2", "phone"})


def _resolution(body: Any) -> tuple[dict[str, str], dict[str, str | None], bool]:
    """The operator's fix, checked before anything is read from the database."""
    if not isinstance(body, dict) or set(body) - {"skus", "address", "accept_amounts"}:
        raise Refused(
            422, "invalid_request", "the body is an object of skus, address and accept_amounts"
        )
    skus, address = body.get("skus") or {}, body.get("address") or {}
    accept = body.get("accept_amounts", False)
    if not isinstance(skus, dict) or not all(isinstance(v, str) for v in skus.values()):
        raise Refused(422, "invalid_request", "skus must map channel SKUs to our SKUs")
    if not isinstance(address, dict) or set(address) - RESOLVABLE_ADDRESS_FIELDS:
        fields = ", ".join(sorted(RESOLVABLE_ADDRESS_FIELDS))
        raise Refused(422, "invalid_request", f"address may only set {fields}")
    if not all(isinstance(v, str) and len(v) <= 500 for v in address.values()):
        raise Refused(422, "invalid_request", "address values must be text of 500 characters")
    if not isinstance(accept, bool):
        raise Refused(422, "invalid_request", "accept_amounts must be true or false")
    try:
        mapping = {channel_sku: identifier(sku) for channel_sku, sku in skus.items()}
    except ValueError as exc:
        raise Refused(422, "invalid_request", f"skus: {exc}") from None
    return mapping, address, accept
