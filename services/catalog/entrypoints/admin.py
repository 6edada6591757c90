"""The catalog's admin API (bearer token): producers, products, listings and stock adjustments.

Bad input answers 4xx with the shared refusal (shared/http.py), every problem named in its
`errors` as `{"field", "message"}`, and changes nothing: 422 for a body that is not valid, 404
for an unknown path id, 409 for a duplicate, 413 for a body over 256 KiB. Ids in the
path are percent-encoded, one segment each (entrypoints/paths.py).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.catalog import metrics
from services.catalog.adapters import postgres as db
from services.catalog.domain import AdjustmentError, Product
from services.catalog.domain.intake import (
    IntakeError,
    listing_from,
    producer_from,
    product_from,
    stock_from,
)
from services.catalog.entrypoints.deps import CatalogHttp
from services.catalog.entrypoints.paths import path_ids
from shared.contracts.identifiers import identifier
from shared.contracts.platforms import platform_named
from shared.http import Handler, Refused, check_admin, read_body, refusal, route

MAX_BODY = 256 * 1024


Endpoint = Callable[[Request, asyncpg.Connection], Awaitable[Response]]


def refuse(status: int, reason: str, field: str, message: str) -> Refused:
    return Refused.fields(status, reason, [(field, message)])


def admin(resource: str) -> Callable[[Endpoint], Handler[CatalogHttp]]:
    """An admin handler for `resource`: it runs in one transaction, so a refusal changes nothing,
    and its refusals are answered with the fields at fault and counted by reason."""

    def wrap(endpoint: Endpoint) -> Handler[CatalogHttp]:
        @functools.wraps(endpoint)
        async def handler(request: Request, deps: CatalogHttp) -> Response:
            try:
                check_admin(request, deps.admin_token)
                async with deps.pool.acquire() as conn, conn.transaction():
                    return await endpoint(request, conn)
            except IntakeError as exc:
                refused = Refused.fields(422, "invalid", [(e.field, e.message) for e in exc.errors])
            except Refused as exc:
                refused = exc
            metrics.ADMIN_REJECTED.labels(resource, refused.reason).inc()
            return refusal("catalog", f"admin/{resource}", refused)

        return handler

    return wrap


def admin_routes(deps: CatalogHttp) -> list[Route]:
    return [
        route("/admin/producers", create_producer, deps, methods=["POST"]),
        route("/admin/producers/{ids:path}", producer, deps, methods=["GET", "PUT"]),
        route("/admin/products", create_product, deps, methods=["POST"]),
        route("/admin/products/{ids:path}", product, deps, methods=["GET", "PUT"]),
        route("/admin/listings", create_listing, deps, methods=["POST"]),
        route("/admin/listings/{ids:path}", remove_listing, deps, methods=["DELETE"]),
        route("/admin/stock/{ids:path}", show_stock, deps, methods=["GET"]),
        route("/admin/stock/{ids:path}/adjustments", adjust_stock, deps, methods=["POST"]),
    ]


async def body_of(request: Request) -> dict[str, Any]:
    try:
        raw = await read_body(request, MAX_BODY)
    except Refused as exc:
        raise refuse(exc.status, exc.reason, "body", exc.detail) from None
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise refuse(400, "malformed_json", "body", f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise refuse(422, "invalid", "body", "must be a JSON object")
    return body


def same_id(body: dict[str, Any], field: str, value: str) -> dict[str, Any]:
    given = body.setdefault(field, value)
    try:
        same = not isinstance(given, str) or identifier(given) == value
    except ValueError:
        return body  # not an id at all: the model says why
    if not same:
        raise refuse(422, "invalid", field, f"{given!r} differs from the path's {value!r}")
    return body


def ids_in_path(request: Request, *fields: str, suffix: str | None = None) -> list[str]:
    """The ids after /admin/<resource>/, one path segment each, as stored (NFC, trimmed). A path
    that holds other segments, or an id that cannot be one, is an unknown id: 404."""
    segments = path_ids(request, 2)
    if suffix is not None and segments[-1:] == [suffix]:
        segments = segments[:-1]
    if len(segments) != len(fields):
        raise refuse(404, "not_found", "path", f"expected {'/'.join(fields)} in the path")
    ids = []
    for field, segment in zip(fields, segments, strict=True):
        try:
            ids.append(platform_named(segment) if field == "channel" else identifier(segment))
        except ValueError as exc:
            raise refuse(404, "not_found", field, str(exc)) from None
    return ids


@admin("producers")
async def create_producer(request: Request, conn: asyncpg.Connection) -> Response:
    p = producer_from(await body_of(request))
    if await db.get_producer(conn, p.producer_id):
        raise refuse(409, "duplicate", "producer_id", f"{p.producer_id} already exists")
    await db.upsert_producer(conn, p)
    return JSONResponse(p.model_dump(mode="json"), 201)


@admin("producers")
async def producer(request: Request, conn: asyncpg.Connection) -> Response:
    [producer_id] = ids_in_path(request, "producer_id")
    if request.method == "PUT":
        p = producer_from(same_id(await body_of(request), "producer_id", producer_id))
        await db.upsert_producer(conn, p)
        return JSONResponse(p.model_dump(mode="json"))
    found = await db.get_producer(conn, producer_id)
    if found is None:
        raise refuse(404, "not_found", "producer_id", f"no producer {producer_id}")
    return JSONResponse(found.model_dump(mode="json"))


async def _save_product(conn: asyncpg.Connection, body: dict[str, Any], *, create: bool) -> Product:
    stock = stock_from(body.pop("stock", 0))
    p = product_from(body)
    exists = bool(await db.existing_skus(conn, [p.sku]))
    if create and exists:
        raise refuse(409, "duplicate", "sku", f"{p.sku} already exists")
    if not await db.existing_producer_ids(conn, [p.producer_id]):
        raise refuse(422, "unknown_producer", "producer_id", f"no producer {p.producer_id}")
    if exists and stock:
        raise refuse(422, "invalid", "stock", "only for a new SKU: adjust stock instead")
    await db.upsert_product(conn, p, stock)
    return p


@admin("products")
async def create_product(request: Request, conn: asyncpg.Connection) -> Response:
    p = await _save_product(conn, await body_of(request), create=True)
    return JSONResponse(p.model_dump(mode="json"), 201)


@admin("products")
async def product(request: Request, conn: asyncpg.Connection) -> Response:
    [sku] = ids_in_path(request, "sku")
    if request.method == "PUT":
        body = same_id(await body_of(request), "sku", sku)
        p = await _save_product(conn, body, create=False)
        return JSONResponse(p.model_dump(mode="json"))
    found = (await db.get_products(conn, [sku])).get(sku)
    if found is None:
        raise refuse(404, "not_found", "sku", f"no product {sku}")
    listings = (await db.listings_for_skus(conn, [sku])).get(sku, [])
    return JSONResponse(
        {
            **found.model_dump(mode="json"),
            "stock": _jsonable(await db.stock_detail(conn, sku) or {}),
            "listings": [{"channel": c, "account": a, "channel_sku": cs} for c, a, cs in listings],
        }
    )


@admin("listings")
async def create_listing(request: Request, conn: asyncpg.Connection) -> Response:
    listing = listing_from(await body_of(request))
    if not await db.existing_skus(conn, [listing.sku]):
        raise refuse(422, "unknown_sku", "sku", f"no product {listing.sku}")
    key = (listing.channel, listing.account, listing.channel_sku)
    current = (await db.listed_skus(conn, [key])).get(key)
    if current is not None and current != listing.sku:
        raise refuse(409, "duplicate", "channel_sku", f"already maps to {current}")
    await db.upsert_listing(conn, *key, listing.sku)
    return JSONResponse(listing.model_dump(), 201 if current is None else 200)


@admin("listings")
async def remove_listing(request: Request, conn: asyncpg.Connection) -> Response:
    key = ids_in_path(request, "channel", "account", "channel_sku")
    if not await db.delete_listing(conn, *key):
        raise refuse(404, "not_found", "channel_sku", "no such listing")
    return Response(status_code=204)


@admin("stock")
async def show_stock(request: Request, conn: asyncpg.Connection) -> Response:
    [sku] = ids_in_path(request, "sku")
    detail = await db.stock_detail(conn, sku)
    if detail is None:
        raise refuse(404, "not_found", "sku", f"no product {sku}")
    return JSONResponse({"sku": sku, **_jsonable(detail)})


@admin("stock")
async def adjust_stock(request: Request, conn: asyncpg.Connection) -> Response:
    [sku] = ids_in_path(request, "sku", suffix="adjustments")
    body = await body_of(request)
    unknown = sorted(set(body) - {"delta", "on_hand", "note"})
    if unknown:
        raise refuse(422, "invalid", unknown[0], "unknown field")
    delta, on_hand, note = body.get("delta"), body.get("on_hand"), body.get("note")
    if delta is not None and (isinstance(delta, bool) or not isinstance(delta, int)):
        raise refuse(422, "invalid", "delta", f"not a whole number: {delta!r}")
    if on_hand is not None:
        on_hand = stock_from(on_hand, "on_hand")
    if note is not None and not isinstance(note, str):
        raise refuse(422, "invalid", "note", "must be text")
    try:
        level = await db.adjust_stock(conn, sku, delta=delta, on_hand=on_hand, note=note)
    except AdjustmentError as exc:
        raise refuse(409 if exc.conflict else 422, "invalid", exc.field, str(exc)) from None
    if level is None:
        raise refuse(404, "not_found", "sku", f"no product {sku}")
    figures = {"on_hand": level.on_hand, "reserved": level.reserved}
    return JSONResponse({"sku": sku, **figures, "available": level.available})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value
