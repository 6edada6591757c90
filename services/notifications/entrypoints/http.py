"""HTTP endpoints providers call: delivery reports (one per provider, each authenticated) and
inbound SMS keywords (STOP / HUY opt out, START opts back in).

- Twilio: `X-Twilio-Signature` over our public URL and the sorted POST parameters (constant-time
  compare); the status-callback URL carries our message id, so an interrupted send is matched.
- eSMS: an unsigned GET, so a secret token sits in the callback URL (with our message id).
- SpeedSMS: the same token in the URL; the report names its `tranId`.
Bad input is refused (shared/http.py) with a precise status and counted in
`ovop_requests_rejected_total`: forged or missing credentials 401, malformed 400, an unknown
message 404, a body over 64 KiB 413. What a callback changes goes to the service's bus as a
command (RecordDeliveryReport, ChangeOptOut), in a unit of work of its own.
"""

from __future__ import annotations

import functools
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.notifications.commands import ChangeOptOut, RecordDeliveryReport
from services.notifications.domain.reports import (
    ESMS_STATES,
    SPEEDSMS_STATES,
    TWILIO_STATES,
    twilio_signature_valid,
)
from services.notifications.domain.rules import parse_keyword
from services.notifications.settings import NotificationSettings
from shared.http import Handler, Refused, capped, refusal, route
from shared.messaging.bus import MessageBus
from shared.phones import normalise_phone

log = structlog.get_logger(__name__)
# Reports and inbound messages are a few hundred bytes; anything near this is not one.
MAX_BODY = 64 * 1024


class BusHolder(Protocol):
    bus: MessageBus[Any] | None


@dataclass(frozen=True)
class NotificationsHttp:
    """What the handlers need: the running service (its bus) and the notification settings
    (provider credentials, the callback token)."""

    service: BusHolder
    settings: NotificationSettings

    @property
    def bus(self) -> MessageBus[Any]:
        assert self.service.bus is not None
        return self.service.bus

    def token_ok(self, given: str) -> bool:
        token = self.settings.callback_token
        return token is not None and hmac.compare_digest(
            given.encode(), token.get_secret_value().encode()
        )


def refusing(endpoint: str) -> Callable[[Handler[NotificationsHttp]], Handler[NotificationsHttp]]:
    """A provider's endpoint: its body capped, its refusals answered and counted."""

    def wrap(handler: Handler[NotificationsHttp]) -> Handler[NotificationsHttp]:
        @functools.wraps(handler)
        async def guarded(request: Request, deps: NotificationsHttp) -> Response:
            try:
                return await handler(capped(request, MAX_BODY), deps)
            except Refused as refused:
                return refusal("notifications", endpoint, refused)

        return guarded

    return wrap


async def twilio_params(request: Request, deps: NotificationsHttp) -> dict[str, str]:
    settings = deps.settings
    if settings.twilio_auth_token is None:
        raise Refused(503, "twilio_not_configured", "NOTIFICATIONS_TWILIO_AUTH_TOKEN is not set")
    form = await request.form()
    params = [(k, str(v)) for k, v in form.multi_items()]
    url = settings.public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    given = request.headers.get("x-twilio-signature")
    token = settings.twilio_auth_token.get_secret_value()
    if not twilio_signature_valid(token, url, params, given):
        raise Refused(401, "bad_signature", "X-Twilio-Signature missing or not valid")
    return dict(params)


@refusing("twilio_report")
async def twilio_report(request: Request, deps: NotificationsHttp) -> Response:
    params = await twilio_params(request, deps)
    state = TWILIO_STATES.get(params.get("MessageStatus", "").lower())
    message_id = _uuid(request.path_params["message_id"])
    if state is None or message_id is None:
        raise Refused(400, "malformed_report", "no known MessageStatus, or not our message id")
    detail = f"twilio {params.get('MessageStatus')}" + (
        f" error {params['ErrorCode']}" if params.get("ErrorCode") else ""
    )
    # The MessageSid settles an interrupted send, whose id was never recorded.
    report = RecordDeliveryReport(
        "twilio", state, detail, message_id, provider_message_id=params.get("MessageSid") or None
    )
    status = await deps.bus.handle(report)
    if status is None:
        raise Refused(404, "unknown_message", f"no message {message_id}")
    return JSONResponse({"status": status})


@refusing("esms_report")
async def esms_report(request: Request, deps: NotificationsHttp) -> Response:
    if not deps.token_ok(request.path_params["token"]):
        raise Refused(401, "bad_token", "the callback token is not valid")
    q = request.query_params
    state = ESMS_STATES.get(q.get("SendStatus", ""))
    message_id = _uuid(request.path_params["message_id"])
    part = _int(q.get("PartNo") or q.get("part"))
    if state is None or message_id is None or part == -1:
        raise Refused(400, "malformed_report", "no known SendStatus, or a bad id or part")
    detail = f"esms SendStatus {q.get('SendStatus')} SMSID {q.get('SMSID')}"
    status = await deps.bus.handle(
        RecordDeliveryReport("esms", state, detail, message_id, part=part)
    )
    if status is None:
        raise Refused(404, "unknown_message", f"no message {message_id}")
    return JSONResponse({"status": status})


@refusing("speedsms_report")
async def speedsms_report(request: Request, deps: NotificationsHttp) -> Response:
    if not deps.token_ok(request.path_params["token"]):
        raise Refused(401, "bad_token", "the callback token is not valid")
    try:
        body = json.loads(await request.body())
        tran_id = str(body["tranId"])
        state = SPEEDSMS_STATES.get(str(body["status"]))
        part = _int(body.get("part"))
    except (ValueError, KeyError, TypeError):
        raise Refused(400, "malformed_report", "not a JSON report with tranId and status") from None
    if state is None or part == -1:
        raise Refused(400, "malformed_report", "no known status, or a bad part")
    detail = f"speedsms status {body['status']}"
    report = RecordDeliveryReport("speedsms", state, detail, provider_message_id=tran_id, part=part)
    status = await deps.bus.handle(report)
    if status is None:
        raise Refused(404, "unknown_message", f"no speedsms message {tran_id}")
    return JSONResponse({"status": status})


async def keyword(deps: NotificationsHttp, sender: str | None, text: str | None) -> Response:
    if not sender or text is None:
        raise Refused(400, "malformed_inbound", "no sender or no text")
    phone = normalise_phone(sender, "VN")
    if phone is None:
        raise Refused(400, "invalid_phone", "the sender is not a phone number")
    action = parse_keyword(text)
    if action is None:
        return JSONResponse({"action": "ignored"})
    await deps.bus.handle(ChangeOptOut(phone, action == "opt_out"))
    log.info("sms.preference_changed", action=action, phone=phone)
    return JSONResponse({"action": action})


@refusing("twilio_inbound")
async def twilio_inbound(request: Request, deps: NotificationsHttp) -> Response:
    params = await twilio_params(request, deps)
    return await keyword(deps, params.get("From"), params.get("Body"))


@refusing("sms_inbound")
async def token_inbound(request: Request, deps: NotificationsHttp) -> Response:
    if not deps.token_ok(request.path_params["token"]):
        raise Refused(401, "bad_token", "the callback token is not valid")
    values: dict[str, str] = dict(request.query_params)
    if request.method == "POST":
        raw = await request.body()
        try:
            if raw.strip().startswith(b"{"):
                values |= json.loads(raw)
            else:
                values |= dict((await request.form()).items())
        except ValueError:
            raise Refused(400, "malformed_inbound", "the body is not JSON or a form") from None
    sender = values.get("from") or values.get("Phone") or values.get("phone")
    text = values.get("text") or values.get("Message") or values.get("message")
    return await keyword(deps, sender, text)


def routes_for(settings: NotificationSettings) -> Callable[[BusHolder], list[Route]]:
    """The routes, given the running service (for its bus)."""

    def build(service: BusHolder) -> list[Route]:
        deps = NotificationsHttp(service, settings)
        return [
            route("/callbacks/twilio/{message_id}", twilio_report, deps, methods=["POST"]),
            route("/callbacks/esms/{token}/{message_id}", esms_report, deps, methods=["GET"]),
            route("/callbacks/speedsms/{token}", speedsms_report, deps, methods=["POST"]),
            route("/inbound/twilio", twilio_inbound, deps, methods=["POST"]),
            route("/inbound/sms/{token}", token_inbound, deps, methods=["GET", "POST"]),
        ]

    return build


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
