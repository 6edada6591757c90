"""The catalog's admin API (bearer token): producers, products, listings and stock adjustments.

Each write turns its body into one command (commands.py) and hands it to the catalog's bus; a
read takes a unit of work of its own and asks its repositories.

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

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.catalog import metrics
from services.catalog.adapters.uow import CatalogUnitOfWork
from services.catalog.commands import (
    AdjustStock,
    Refusal,
    RemoveListing,
    SaveListing,
    SaveProducer,
    SaveProduct,
)
from services.catalog.domain import AdjustmentError
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
from shared.messaging.bus import MessageBus

MAX_BODY = 256 * 1024

Bus = MessageBus[CatalogUnitOfWork]
Endpoint = Callable[[Request, Bus], Awaitable[Response]]
# The status of a refusal that clashes with what is stored; any other refusal is 422.
REFUSAL_STATUS = {"duplicate": 409, "not_found": 404}


def refuse(status: int, reason: str, field: str, message: str) -> Refused:
    return Refused.fields(status, reason, [(field, message)])


def admin(resource: str) -> Callable[[Endpoint], Handler[CatalogHttp]]:
    """An admin handler for `resource`: it hands the bus one command, run in one unit of work,
    so a refusal changes nothing, and its refusals are answered with the fields at fault and
    counted by reason."""

    def wrap(endpoint: Endpoint) -> Handler[CatalogHttp]:
        @functools.wraps(endpoint)
        async def handler(request: Request, deps: CatalogHttp) -> Response:
            try:
                check_admin(request, deps.admin_token)
                return await endpoint(request, deps.bus)
            except IntakeError as exc:
                refused = Refused.fields(422, "invalid", [(e.field, e.message) for e in exc.errors])
            except Refusal as exc:
                status = REFUSAL_STATUS.get(exc.reason, 422)
                refused = refuse(status, exc.reason, exc.field, str(exc))
            except AdjustmentError as exc:
                refused = refuse(409 if exc.conflict else 422, "invalid", exc.field, str(exc))
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
async def create_producer(request: Request, bus: Bus) -> Response:
    p = producer_from(await body_of(request))
    await bus.handle(SaveProducer(p, create=True))
    return JSONResponse(p.model_dump(mode="json"), 201)


@admin("producers")
async def producer(request: Request, bus: Bus) -> Response:
    [producer_id] = ids_in_path(request, "producer_id")
    if request.method == "PUT":
        p = producer_from(same_id(await body_of(request), "producer_id", producer_id))
        await bus.handle(SaveProducer(p))
        return JSONResponse(p.model_dump(mode="json"))
    async with bus.uow() as uow:
        found = await uow.catalog.get_producer(producer_id)
    if found is None:
        raise refuse(404, "not_found", "producer_id", f"no producer {producer_id}")
    return JSONResponse(found.model_dump(mode="json"))


def save_product(body: dict[str, Any], *, create: bool) -> SaveProduct:
    stock = stock_from(body.pop("stock", 0))
    return SaveProduct(product_from(body), stock, create=create)


@admin("products")
async def create_product(request: Request, bus: Bus) -> Response:
    command = save_product(await body_of(request), create=True)
    await bus.handle(command)
    return JSONResponse(command.product.model_dump(mode="json"), 201)


@admin("products")
async def product(request: Request, bus: Bus) -> Response:
    [sku] = ids_in_path(request, "sku")
    if request.method == "PUT":
        command = save_product(same_id(await body_of(request), "sku", sku), create=False)
        await bus.handle(command)
        return JSONResponse(command.product.model_dump(mode="json"))
    async with bus.uow() as uow:
        found = (await uow.catalog.get_products([sku])).get(sku)
        if found is None:
            raise refuse(404, "not_found", "sku", f"no product {sku}")
        listings = (await uow.catalog.listings_for_skus([sku])).get(sku, [])
        stock = await uow.stock.stock_detail(sku)
    return JSONResponse(
        {
            **found.model_dump(mode="json"),
            "stock": _jsonable(stock or {}),
            "listings": [{"channel": c, "account": a, "channel_sku": cs} for c, a, cs in listings],
        }
    )


@admin("listings")
async def create_listing(request: Request, bus: Bus) -> Response:
    listing = listing_from(await body_of(request))
    new = await bus.handle(SaveListing(listing))
    return JSONResponse(listing.model_dump(), 201 if new else 200)


@admin("listings")
async def remove_listing(request: Request, bus: Bus) -> Response:
    channel, account, channel_sku = ids_in_path(request, "channel", "account", "channel_sku")
    await bus.handle(RemoveListing(channel, account, channel_sku))
    return Response(status_code=204)


@admin("stock")
async def show_stock(request: Request, bus: Bus) -> Response:
    [sku] = ids_in_path(request, "sku")
    async with bus.uow() as uow:
        detail = await uow.stock.stock_detail(sku)
    if detail is None:
        raise refuse(404, "not_found", "sku", f"no product {sku}")
    return JSONResponse({"sku": sku, **_jsonable(detail)})


@admin("stock")
async def adjust_stock(request: Request, bus: Bus) -> Response:
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
    level = await bus.handle(AdjustStock(sku, delta=delta, on_hand=on_hand, note=note))
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
