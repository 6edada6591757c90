"""The logistics HTTP API: partner status updates in, plans with their KPIs, labels, and the
network (the last three for operators, behind the admin token)."""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import structlog
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.logistics.adapters.labels import render_label
from services.logistics.adapters.partner_signing import SIGNATURE_HEADER, sign
from services.logistics.adapters.postgres import as_json
from services.logistics.commands import (
    ApplyPartnerUpdate,
    DayPlans,
    GetPlan,
    GetShipment,
    ListHubs,
    PutHubs,
)
from services.logistics.domain.config import HubConfig
from services.logistics.domain.kpis import Kpis
from services.logistics.domain.tracking import UnreadableUpdate, parse
from services.logistics.handlers import UnknownShipment
from services.logistics.metrics import PARTNER_EVENTS
from services.logistics.settings import LogisticsSettings
from shared.http import Handler, Refused, check_admin, read_body, refusal, route
from shared.messaging.bus import MessageBus
from shared.runtime import Service

log = structlog.get_logger(__name__)
MAX_BODY = 256 * 1024
ENDPOINT = "partner_events"


@dataclass(frozen=True)
class LogisticsHttp:
    """What the handlers need: the running service (its bus, and its settings hold the admin
    token) and logistics' own settings."""

    service: Service
    settings: LogisticsSettings

    @property
    def bus(self) -> MessageBus[Any]:
        assert self.service.bus is not None
        return self.service.bus

    @property
    def admin_token(self) -> str | None:
        token = self.service.settings.admin_token
        return token.get_secret_value() if token else None


async def partner_events(request: Request, deps: LogisticsHttp) -> Response:
    partner = request.path_params["partner"]
    try:
        return await receive_partner_event(request, deps.bus, deps.settings)
    except Refused as refused:
        PARTNER_EVENTS.labels(partner, refused.reason).inc()
        return refusal("logistics", ENDPOINT, refused, partner=partner)


async def receive_partner_event(
    request: Request, bus: MessageBus[Any], settings: LogisticsSettings
) -> Response:
    partner = request.path_params["partner"]
    secret = settings.partner_secrets.get(partner)
    if secret is None:
        raise Refused(404, "unknown_partner", f"no partner {partner!r}")
    body = await read_body(request, MAX_BODY)
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(given.encode(), sign(secret, body).encode()):
        raise Refused(401, "bad_signature", "signature missing or not valid")
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        raise Refused(400, "malformed_json", f"body is not a JSON object: {exc}") from None
    try:
        update = parse(partner, payload)
    except UnreadableUpdate as exc:
        raise Refused(422, "unreadable_update", str(exc)) from None
    try:
        outcome = await bus.handle(ApplyPartnerUpdate(update))
    except UnknownShipment:
        raise Refused(404, "unknown_shipment", update.reference) from None
    PARTNER_EVENTS.labels(partner, outcome).inc()
    structlog.contextvars.bind_contextvars(shipment_id=update.shipment_id)
    log.info("partner_event.received", partner=partner, code=update.code, outcome=outcome)
    return JSONResponse({"outcome": outcome, "status": update.status})


def admin_only(endpoint: str) -> Callable[[Handler[LogisticsHttp]], Handler[LogisticsHttp]]:
    """An operator's handler: the admin token first; refusals answered and counted."""

    def wrap(handler: Handler[LogisticsHttp]) -> Handler[LogisticsHttp]:
        @functools.wraps(handler)
        async def guarded(request: Request, deps: LogisticsHttp) -> Response:
            try:
                check_admin(request, deps.admin_token)
                return await handler(request, deps)
            except Refused as refused:
                return refusal("logistics", endpoint, refused)

        return guarded

    return wrap


@admin_only("plans")
async def get_plan(request: Request, deps: LogisticsHttp) -> Response:
    plan_id = request.path_params["plan_id"]
    row = await deps.bus.handle(GetPlan(plan_id))
    if row is None:
        raise Refused(404, "unknown_plan", f"no plan {plan_id}")
    return JSONResponse(_plan_json(row))


@admin_only("days")
async def get_day(request: Request, deps: LogisticsHttp) -> Response:
    hub_id, day = request.path_params["hub_id"], request.path_params["day"]
    rows = await deps.bus.handle(DayPlans(hub_id, day))
    return JSONResponse(_day_json(hub_id, day, rows))


async def _shipment(request: Request, deps: LogisticsHttp) -> dict[str, Any]:
    shipment_id = request.path_params["shipment_id"]
    row = await deps.bus.handle(GetShipment(shipment_id))
    if row is None:
        raise Refused(404, "unknown_shipment", f"no shipment {shipment_id}")
    return dict(row)


@admin_only("shipments")
async def get_shipment(request: Request, deps: LogisticsHttp) -> Response:
    shipment = await _shipment(request, deps)
    return JSONResponse(json.loads(json.dumps(shipment, default=str)))


@admin_only("labels")
async def get_label(request: Request, deps: LogisticsHttp) -> Response:
    shipment = await _shipment(request, deps)
    pdf = render_label(shipment, deps.settings.catalog_public_base_url)
    return Response(pdf, media_type="application/pdf")


@admin_only("hubs")
async def list_hubs(request: Request, deps: LogisticsHttp) -> Response:
    hubs = await deps.bus.handle(ListHubs())
    return JSONResponse([h.model_dump(mode="json") for h in hubs])


@admin_only("hubs")
async def put_hub(request: Request, deps: LogisticsHttp) -> Response:
    try:
        config = HubConfig.model_validate_json(await read_body(request, MAX_BODY))
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)[:5]
        named = [(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in errors]
        raise Refused.fields(422, "invalid_hub", named) from None
    if config.hub_id != request.path_params["hub_id"]:
        raise Refused(422, "hub_id_mismatch", f"the body is hub {config.hub_id!r}")
    await deps.bus.handle(PutHubs((config,)))
    return JSONResponse(config.model_dump(mode="json"))


def routes(settings: LogisticsSettings) -> Callable[[Service], list[Route]]:
    def build(service: Service) -> list[Route]:
        deps = LogisticsHttp(service, settings)
        return [
            route("/partners/{partner}/events", partner_events, deps, methods=["POST"]),
            route("/plans/{plan_id}", get_plan, deps),
            route("/days/{hub_id}/{day}", get_day, deps),
            route("/shipments/{shipment_id}", get_shipment, deps),
            route("/shipments/{shipment_id}/label.pdf", get_label, deps),
            route("/network/hubs", list_hubs, deps),
            route("/network/hubs/{hub_id}", put_hub, deps, methods=["PUT"]),
        ]

    return build


def _plan_json(row) -> dict[str, Any]:
    return {
        "plan_id": row["plan_id"],
        "hub_id": row["hub_id"],
        "wave_id": row["wave_id"],
        "created_at": row["created_at"].isoformat(),
        "solve_seconds": round(row["solve_seconds"], 3),
        "plan": as_json(row["plan"]),
        "kpis": as_json(row["kpis"]),
    }


def _day_json(hub_id: str, day: str, rows) -> dict[str, Any]:
    names = [f.name for f in fields(Kpis)]
    totals: dict[str, Kpis] = {}
    for row in rows:
        kpis = as_json(row["kpis"])
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
