"""The orders service's composition root."""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.orders import handlers
from services.orders.adapters import postgres as db
from services.orders.entrypoints.webhooks import receive_shopify_webhook
from shared.contracts.events import RESERVATIONS, StockRejected, StockReserved
from shared.http import require_admin
from shared.messaging.consumer import Subscription
from shared.runtime import Service
from shared.settings import ServiceSettings, load_settings

MIGRATIONS = resources.files("services.orders") / "migrations"


def routes(service: Service) -> list[Route]:

    async def webhook(request: Request) -> Response:
        assert service.pool is not None
        return await receive_shopify_webhook(request, service.pool)

    async def show_order(request: Request) -> Response:
        token = service.settings.admin_token
        refused = require_admin(request, token.get_secret_value() if token else None)
        if refused:
            return refused
        assert service.pool is not None
        async with service.pool.acquire() as conn:
            order = await db.get_order(conn, request.path_params["order_id"])
            history = await db.status_history(conn, request.path_params["order_id"])
        if order is None:
            return JSONResponse({"error": "not_found"}, 404)
        return JSONResponse(
            {**order.model_dump(mode="json"), "history": [_jsonable(h) for h in history]}
        )

    return [
        Route("/webhooks/shopify/{account}", webhook, methods=["POST"]),
        Route("/admin/orders/{order_id}", show_order, methods=["GET"]),
    ]


def _jsonable(row: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


def build(settings: ServiceSettings | None = None) -> Service:
    return Service(
        settings=settings or load_settings("orders"),
        migrations=MIGRATIONS,
        subscriptions=[
            Subscription(
                RESERVATIONS,
                {
                    StockReserved: handlers.on_stock_reserved,
                    StockRejected: handlers.on_stock_rejected,
                },
            )
        ],
        routes=routes,
    )
