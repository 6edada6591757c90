"""The logistics HTTP API: partner status updates in, plans with their KPIs, labels, and the
network (the last three for operators, behind the admin token)."""

from __future__ import annotations

import hmac
import json
from dataclasses import fields
from typing import Any

import asyncpg
import structlog
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.logistics.adapters import postgres as db
from services.logistics.adapters.labels import render_label
from services.logistics.domain.config import HubConfig
from services.logistics.domain.kpis import Kpis
from services.logistics.domain.tracking import UnreadableUpdate, parse
from services.logistics.handlers import UnknownShipment, apply_tracking
from services.logistics.jobs import SIGNATURE_HEADER, sign
from services.logistics.metrics import PARTNER_EVENTS
from services.logistics.settings import LogisticsSettings
from shared.contracts.envelope import Envelope
from shared.http import require_admin
from shared.messaging import outbox
from shared.metrics import REQUESTS_REJECTED
from shared.runtime import Service

log = structlog.get_logger(__name__)
MAX_BODY = 256 * 1024
ENDPOINT = "partner_events"


def _refuse(partner: str, status: int, reason: str, detail: str = "") -> Response:
    REQUESTS_REJECTED.labels("logistics", ENDPOINT, reason).inc()
    PARTNER_EVENTS.labels(partner, reason).inc()
    log.warning("partner_event.refused", partner=partner, reason=reason, detail=detail)
    return JSONResponse({"error": reason, "detail": detail}, status)


async def receive_partner_event(
    request: Request, pool: asyncpg.Pool, settings: LogisticsSettings
) -> Response:
    partner = request.path_params["partner"]
    secret = settings.partner_secrets.get(partner)
    if secret is None:
        return _refuse(partner, 404, "unknown_partner")
    body = await request.body()
    if len(body) > MAX_BODY:
        return _refuse(partner, 413, "body_too_large")
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(given.encode(), sign(secret, body).encode()):
        return _refuse(partner, 401, "bad_signature")
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except ValueError:
        return _refuse(partner, 400, "malformed_json")
    try:
        update = parse(partner, payload)
    except UnreadableUpdate as exc:
        return _refuse(partner, 422, "unreadable_update", str(exc))
    try:
        async with pool.acquire() as conn, conn.transaction():
            outcome, events = await apply_tracking(conn, update)
            for event in events:
                env = Envelope.wrap(event, producer="logistics", correlation_id=event.order_id)
                await outbox.enqueue(conn, env, event)
    except UnknownShipment:
        return _refuse(partner, 404, "unknown_shipment", update.reference)
    PARTNER_EVENTS.labels(partner, outcome).inc()
    structlog.contextvars.bind_contextvars(shipment_id=update.shipment_id)
    log.info("partner_event.received", partner=partner, code=update.code, outcome=outcome)
    return JSONResponse({"outcome": outcome, "status": update.status})


def routes(settings: LogisticsSettings):
    def build(service: Service) -> list[Route]:
        token = service.settings.admin_token
        admin_token = token.get_secret_value() if token else None

        def pool() -> asyncpg.Pool:
            assert service.pool is not None
            return service.pool

        async def partner_events(request: Request) -> Response:
            return await receive_partner_event(request, pool(), settings)

        async def get_plan(request: Request) -> Response:
            if (denied := require_admin(request, admin_token)) is not None:
                return denied
            async with pool().acquire() as conn:
                row = await db.plan(conn, request.path_params["plan_id"])
            if row is None:
                return JSONResponse({"error": "unknown_plan"}, 404)
            return JSONResponse(_plan_json(row))

        async def get_day(request: Request) -> Response:
            if (denied := require_admin(request, admin_token)) is not None:
                return denied
            hub_id, day = request.path_params["hub_id"], request.path_params["day"]
            async with pool().acquire() as conn:
                rows = await db.day_plans(conn, hub_id, day)
            return JSONResponse(_day_json(hub_id, day, rows))

        async def get_shipment(request: Request) -> Response:
            if (denied := require_admin(request, admin_token)) is not None:
                return denied
            async with pool().acquire() as conn:
                row = await db.shipment(conn, request.path_params["shipment_id"])
            if row is None:
                return JSONResponse({"error": "unknown_shipment"}, 404)
            return JSONResponse(json.loads(json.dumps(dict(row), default=str)))

        async def get_label(request: Request) -> Response:
            if (denied := require_admin(request, admin_token)) is not None:
                return denied
            async with pool().acquire() as conn:
                row = await db.shipment(conn, request.path_params["shipment_id"])
            if row is None:
                return JSONResponse({"error": "unknown_shipment"}, 404)
            shipment = dict(row)
            pdf = render_label(shipment, settings.catalog_public_base_url)
            return Response(pdf, media_type="application/pdf")

        async def list_hubs(request: Request) -> Response:
            if (denied := require_admin(request, admin_token)) is not None:
                return denied
            async with pool().acquire() as conn:
                hubs = await db.network(conn)
            return JSONResponse([h.model_dump(mode="json") for h in hubs])

        async def put_hub(request: Request) -> Response:
            if (denied := require_admin(request, admin_token)) is not None:
                return denied
            try:
                config = HubConfig.model_validate_json(await request.body())
            except ValidationError as exc:
                detail = exc.errors(include_url=False, include_context=False)[:5]
                return JSONResponse({"error": "invalid_hub", "detail": detail}, 422)
            if config.hub_id != request.path_params["hub_id"]:
                return JSONResponse({"error": "hub_id_mismatch"}, 422)
            async with pool().acquire() as conn:
                await db.put_hub(conn, config)
            return JSONResponse(config.model_dump(mode="json"))

        return [
            Route("/partners/{partner}/events", partner_events, methods=["POST"]),
            Route("/plans/{plan_id}", get_plan),
            Route("/days/{hub_id}/{day}", get_day),
            Route("/shipments/{shipment_id}", get_shipment),
            Route("/shipments/{shipment_id}/label.pdf", get_label),
            Route("/network/hubs", list_hubs),
            Route("/network/hubs/{hub_id}", put_hub, methods=["PUT"]),
        ]

    return build


def _plan_json(row) -> dict[str, Any]:
    return {
        "plan_id": row["plan_id"],
        "hub_id": row["hub_id"],
        "wave_id": row["wave_id"],
        "created_at": row["created_at"].isoformat(),
        "solve_seconds": round(row["solve_seconds"], 3),
        "plan": db.as_json(row["plan"]),
        "kpis": db.as_json(row["kpis"]),
    }


def _day_json(hub_id: str, day: str, rows) -> dict[str, Any]:
    names = [f.name for f in fields(Kpis)]
    totals: dict[str, Kpis] = {}
    for row in rows:
        kpis = db.as_json(row["kpis"])
        for kind in ("plan", "one_trip_per_order", "one_trip_per_village"):
            wave = Kpis(**{n: kpis[kind][n] for n in names})
            totals[kind] = totals.get(kind, Kpis()) + wave
    out: dict[str, Any] = {"hub_id": hub_id, "day": day, "waves": [r["wave_id"] for r in rows]}
    out |= {kind: k.as_dict() for kind, k in totals.items()}
    if totals:
        ours = totals["plan"].cost
        out["cost_ratio"] = {
            f"vs_{kind}": round(ours / totals[kind].cost, 3) if totals[kind].cost else 0.0
            for kind in ("one_trip_per_order", "one_trip_per_village")
        }
    return out
