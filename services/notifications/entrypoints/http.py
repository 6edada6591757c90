"""HTTP endpoints providers call: delivery reports (one per provider, each authenticated) and
inbound SMS keywords (STOP / HUY opt out, START opts back in).

- Twilio: `X-Twilio-Signature` over our public URL and the sorted POST parameters (constant-time
  compare); the status-callback URL carries our message id, so an interrupted send is matched.
- eSMS: an unsigned GET, so a secret token sits in the callback URL (with our message id).
- SpeedSMS: the same token in the URL; the report names its `tranId`.
Bad input gets a precise status and is counted in `ovop_requests_rejected_total`: forged or
missing credentials 401, malformed 400, an unknown message 404.
"""

from __future__ import annotations

import hmac
import json
import uuid

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.notifications import metrics
from services.notifications.adapters import postgres as db
from services.notifications.domain.reports import (
    ESMS_STATES,
    SPEEDSMS_STATES,
    TWILIO_STATES,
    aggregate_parts,
    twilio_signature_valid,
)
from services.notifications.domain.rules import parse_keyword
from services.notifications.settings import NotificationSettings
from shared.metrics import REQUESTS_REJECTED
from shared.phones import normalise_phone

log = structlog.get_logger(__name__)


def _reject(endpoint: str, status: int, reason: str) -> Response:
    REQUESTS_REJECTED.labels("notifications", endpoint, reason).inc()
    log.warning("request.rejected", endpoint=endpoint, reason=reason)
    return JSONResponse({"error": reason}, status)


async def apply_report(conn, row, reported: str, detail: str, part: int | None) -> str:
    """Record one delivery report; a part's report counts towards its message's status."""
    metrics.DELIVERY_REPORTS.labels(row["provider"], reported).inc()
    if part is not None and row["segments"] > 1:
        parts = await db.record_part(conn, row["message_id"], part, reported)
        reported = aggregate_parts(row["segments"], parts) or "SENT"
        detail = f"part {part}/{row['segments']} {parts[part]}; {detail}"
    before, after = await db.report_status(conn, row["message_id"], reported, detail)
    if after != before:
        metrics.STATES.labels(row["provider"], after).inc()
    return after


def routes_for(settings: NotificationSettings):
    """The routes, given the running service (for its database pool)."""
    return lambda service: _routes(settings, service)


def _routes(settings: NotificationSettings, service) -> list[Route]:
    def token_ok(given: str) -> bool:
        token = settings.callback_token
        return token is not None and hmac.compare_digest(
            given.encode(), token.get_secret_value().encode()
        )

    async def twilio_params(request: Request, endpoint: str):
        if settings.twilio_auth_token is None:
            return None, _reject(endpoint, 503, "twilio_not_configured")
        form = await request.form()
        params = [(k, str(v)) for k, v in form.multi_items()]
        url = settings.public_url.rstrip("/") + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        given = request.headers.get("x-twilio-signature")
        token = settings.twilio_auth_token.get_secret_value()
        if not twilio_signature_valid(token, url, params, given):
            return None, _reject(endpoint, 401, "bad_signature")
        return dict(params), None

    async def twilio_report(request: Request) -> Response:
        params, refused = await twilio_params(request, "twilio_report")
        if refused:
            return refused
        assert params is not None
        state = TWILIO_STATES.get(params.get("MessageStatus", "").lower())
        message_id = _uuid(request.path_params["message_id"])
        if state is None or message_id is None:
            return _reject("twilio_report", 400, "malformed_report")
        pool = service.pool
        async with pool.acquire() as conn, conn.transaction():
            row = await db.get_message(conn, message_id)
            if row is None:
                return _reject("twilio_report", 404, "unknown_message")
            sid = params.get("MessageSid")
            if sid and row["provider_message_id"] is None:  # settles an interrupted send
                await conn.execute(
                    "UPDATE sms_messages SET provider_message_id = $2 WHERE message_id = $1",
                    message_id,
                    sid,
                )
            detail = f"twilio {params.get('MessageStatus')}" + (
                f" error {params['ErrorCode']}" if params.get("ErrorCode") else ""
            )
            status = await apply_report(conn, row, state, detail, None)
        return JSONResponse({"status": status})

    async def esms_report(request: Request) -> Response:
        if not token_ok(request.path_params["token"]):
            return _reject("esms_report", 401, "bad_token")
        q = request.query_params
        state = ESMS_STATES.get(q.get("SendStatus", ""))
        message_id = _uuid(request.path_params["message_id"])
        part = _int(q.get("PartNo") or q.get("part"))
        if state is None or message_id is None or part == -1:
            return _reject("esms_report", 400, "malformed_report")
        pool = service.pool
        async with pool.acquire() as conn, conn.transaction():
            row = await db.get_message(conn, message_id)
            if row is None:
                return _reject("esms_report", 404, "unknown_message")
            detail = f"esms SendStatus {q.get('SendStatus')} SMSID {q.get('SMSID')}"
            status = await apply_report(conn, row, state, detail, part)
        return JSONResponse({"status": status})

    async def speedsms_report(request: Request) -> Response:
        if not token_ok(request.path_params["token"]):
            return _reject("speedsms_report", 401, "bad_token")
        try:
            body = json.loads(await request.body())
            tran_id = str(body["tranId"])
            state = SPEEDSMS_STATES.get(str(body["status"]))
            part = _int(body.get("part"))
        except (ValueError, KeyError, TypeError):
            return _reject("speedsms_report", 400, "malformed_report")
        if state is None or part == -1:
            return _reject("speedsms_report", 400, "malformed_report")
        pool = service.pool
        async with pool.acquire() as conn, conn.transaction():
            row = await db.find_by_provider_id(conn, "speedsms", tran_id)
            if row is None:
                return _reject("speedsms_report", 404, "unknown_message")
            detail = f"speedsms status {body['status']}"
            status = await apply_report(conn, row, state, detail, part)
        return JSONResponse({"status": status})

    async def keyword(request: Request, endpoint: str, sender: str | None, text: str | None):
        if not sender or text is None:
            return _reject(endpoint, 400, "malformed_inbound")
        phone = normalise_phone(sender, "VN")
        if phone is None:
            return _reject(endpoint, 400, "invalid_phone")
        action = parse_keyword(text)
        if action is None:
            return JSONResponse({"action": "ignored"})
        pool = service.pool
        async with pool.acquire() as conn, conn.transaction():
            await db.set_opted_out(conn, phone, action == "opt_out")
        log.info("sms.preference_changed", action=action, phone=phone)
        return JSONResponse({"action": action})

    async def twilio_inbound(request: Request) -> Response:
        params, refused = await twilio_params(request, "twilio_inbound")
        if refused:
            return refused
        assert params is not None
        return await keyword(request, "twilio_inbound", params.get("From"), params.get("Body"))

    async def token_inbound(request: Request) -> Response:
        if not token_ok(request.path_params["token"]):
            return _reject("sms_inbound", 401, "bad_token")
        values: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            raw = await request.body()
            try:
                values |= (
                    json.loads(raw)
                    if raw.strip().startswith(b"{")
                    else dict((await request.form()).items())
                )
            except ValueError:
                return _reject("sms_inbound", 400, "malformed_inbound")
        sender = values.get("from") or values.get("Phone") or values.get("phone")
        text = values.get("text") or values.get("Message") or values.get("message")
        return await keyword(request, "sms_inbound", sender, text)

    return [
        Route("/callbacks/twilio/{message_id}", twilio_report, methods=["POST"]),
        Route("/callbacks/esms/{token}/{message_id}", esms_report, methods=["GET"]),
        Route("/callbacks/speedsms/{token}", speedsms_report, methods=["POST"]),
        Route("/inbound/twilio", twilio_inbound, methods=["POST"]),
        Route("/inbound/sms/{token}", token_inbound, methods=["GET", "POST"]),
    ]


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _int(value) -> int | None:
    """None when absent, -1 when present but not a positive integer."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return -1
    return number if number >= 1 else -1
