"""The orders API's handlers are plain functions: imported and called here with a request and a
dependency object of the test's own, no app and no server. Everything below is refused before
the database is needed, so the pool is one that fails if it is touched."""

from __future__ import annotations

import json

import asyncpg
from starlette.requests import Request
from starlette.types import Message

from services.orders.entrypoints.api import MAX_BODY_BYTES, OrdersApi, create_order, list_orders

TOKEN = "s3cret"


class UntouchablePool:
    def acquire(self) -> None:
        raise AssertionError("a refused request must not reach the database")


def no_pool() -> asyncpg.Pool:
    return UntouchablePool()  # type: ignore[return-value]


API = OrdersApi(pool=no_pool, admin_token=lambda: TOKEN)


def request(
    method: str, path: str, query: str = "", *, token: str | None = TOKEN, body: bytes = b""
) -> Request:
    headers = [] if token is None else [(b"authorization", f"Bearer {token}".encode())]

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": headers,
    }
    return Request(scope, receive)


async def test_listing_orders_with_an_unknown_status_is_refused_with_the_reason() -> None:
    response = await list_orders(request("GET", "/orders", "status=teleported"), API)
    assert response.status_code == 400
    assert json.loads(response.body) == {
        "error": "bad_query",
        "detail": "unknown status 'teleported'",
    }


async def test_a_handler_called_without_the_admin_token_is_refused() -> None:
    response = await list_orders(request("GET", "/orders", token=None), API)
    assert (response.status_code, json.loads(response.body)["error"]) == (401, "unauthorised")
    closed = OrdersApi(pool=no_pool, admin_token=lambda: None)
    response = await list_orders(request("GET", "/orders"), closed)
    assert (response.status_code, json.loads(response.body)["error"]) == (503, "admin_disabled")


async def test_a_manual_order_over_the_body_limit_is_refused_before_the_database() -> None:
    too_big = request("POST", "/orders", body=b" " * (MAX_BODY_BYTES + 1))
    response = await create_order(too_big, API)
    assert (response.status_code, json.loads(response.body)["error"]) == (413, "body_too_large")
