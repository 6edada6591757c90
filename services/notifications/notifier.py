"""Turns one message a use case wants sent into its row: each message is rendered once, after the
recipient's own settings and the sending rules have decided how. Nothing is sent here: the
dispatcher sends committed rows (services/notifications/dispatcher.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from jinja2 import TemplateError

from services.notifications import metrics
from services.notifications.adapters.postgres import NewMessage
from services.notifications.domain.encoding import count_segments
from services.notifications.domain.messages import (
    ProducerAlertLine,
    RenderedSms,
    render_sms,
    render_subject,
)
from services.notifications.domain.rules import advertising_allowed, advertising_text
from services.notifications.domain.templates import UnknownTemplate
from services.notifications.settings import NotificationSettings
from shared.contracts.envelope import Envelope
from shared.messaging.consumer import PermanentError
from shared.phones import normalise_phone

log = structlog.get_logger(__name__)
Renderer = Callable[..., RenderedSms]  # render_sms's signature


class Messages(Protocol):
    """The messages and recipients' preferences, as the notifier reads and records them."""

    async def preferences(self, address: str) -> Mapping[str, Any] | None: ...

    async def ads_sent_last_24h(self, recipient: str) -> int: ...

    async def add(self, message: NewMessage) -> uuid.UUID | None: ...


@dataclass(frozen=True)
class Source:
    """The event a message answers: its id is part of the dedup key."""

    event_id: uuid.UUID
    correlation_id: str | None
    event_at: datetime

    @classmethod
    def of(cls, env: Envelope) -> Source:
        return cls(env.event_id, env.correlation_id, env.occurred_at)


@dataclass(frozen=True)
class Recipient:
    raw: str
    language: str | None
    diacritics: bool
    tz: str

    def preferring(self, prefs: Mapping[str, Any]) -> Recipient:
        """The recipient's own language and diacritics win over those the event carries."""
        diacritics = self.diacritics if prefs["diacritics"] is None else prefs["diacritics"]
        return replace(self, language=prefs["language"] or self.language, diacritics=diacritics)


@dataclass(frozen=True)
class OutgoingSms:
    """One SMS a use case wants sent: what it answers, to whom, and what to say."""

    source: Source
    message_type: str
    to: Recipient
    budget: int  # segments
    refs: Mapping[str, str | None]
    context: Mapping[str, Any] = field(default_factory=dict)
    lines: tuple[ProducerAlertLine, ...] = ()
    promo: str | None = None  # a promotional line: makes the message advertising
    rendered: RenderedSms | None = None  # a digest, rendered by its job: recorded as it is


@dataclass(frozen=True)
class Plan:
    """What the recipient's preferences and the sending rules decide, before rendering."""

    to: Recipient
    status: str = "QUEUED"  # or FAILED / SUPPRESSED with a reason: recorded, never sent
    reason: str | None = None
    advertising: bool = False


class Notifier:
    """Records messages for the dispatcher; `provider` is the first of the SMS chain."""

    def __init__(
        self,
        settings: NotificationSettings,
        provider: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        render: Renderer = render_sms,
    ) -> None:
        self.settings = settings
        self.provider = provider
        self.clock = clock
        self.render = render

    async def sms(self, messages: Messages, out: OutgoingSms) -> uuid.UUID | None:
        """The new message's id, or None when this event already gave this message."""
        phone = normalise_phone(out.to.raw, "VN")
        plan = await self._plan(messages, out, phone)
        sms = self._text(out, plan)
        message_id = await messages.add(self._row(out, plan, sms, phone or out.to.raw))
        if message_id is not None:
            _observe(out, plan, sms, message_id, phone or out.to.raw)
        return message_id

    async def _plan(self, messages: Messages, out: OutgoingSms, phone: str | None) -> Plan:
        if phone is None:
            return Plan(out.to, "FAILED", f"invalid_phone: {out.to.raw!r} is not a valid number")
        prefs = await messages.preferences(phone)
        if prefs is not None and prefs["opted_out"]:
            return Plan(out.to, "SUPPRESSED", "opted_out")
        if prefs is not None and out.rendered is None and _has_own_settings(prefs):
            return Plan(out.to.preferring(prefs))
        if out.promo:
            return Plan(out.to, advertising=await self._ad_allowed(messages, phone, out.to.tz))
        return Plan(out.to)

    async def _ad_allowed(self, messages: Messages, phone: str, tz: str) -> bool:
        """Decree 91: advertising only within the hours and the daily limit. Otherwise the
        customer-care part goes alone, at once, rather than waiting for the morning."""
        decision = advertising_allowed(self.clock(), tz, await messages.ads_sent_last_24h(phone))
        if decision.send_at is None or decision.send_at > self.clock():
            log.info("sms.promotion_dropped", reason=decision.reason)
            return False
        return True

    def _text(self, out: OutgoingSms, plan: Plan) -> RenderedSms:
        if out.rendered is not None:
            return out.rendered
        context = {**out.context, "promo": out.promo} if plan.advertising else out.context
        to = plan.to
        try:
            sms = self.render(
                out.message_type,
                language=to.language,
                diacritics=to.diacritics,
                tz=to.tz,
                context=context,
                lines=out.lines,
                segment_budget=out.budget,
            )
        except (UnknownTemplate, TemplateError) as exc:  # retrying cannot fix a template
            raise PermanentError(f"template {out.message_type}: {exc}") from exc
        return self._labelled(sms) if plan.advertising else sms

    def _labelled(self, sms: RenderedSms) -> RenderedSms:
        text = advertising_text(sms.text, sms.language, self.settings.ad_sender)
        measured = count_segments(text)
        return RenderedSms(text, measured.encoding, measured.segments, sms.language)

    def _row(self, out: OutgoingSms, plan: Plan, sms: RenderedSms, recipient: str) -> NewMessage:
        source = out.source
        return NewMessage(
            dedup_key=f"{source.event_id}:{out.message_type}:{recipient}:sms",
            message_type=out.message_type,
            channel="sms",
            recipient=recipient,
            language=sms.language,
            text=sms.text,
            encoding=sms.encoding,
            segments=sms.segments,
            provider=self.provider,
            category="advertising" if plan.advertising else "transactional",
            status=plan.status,
            reason=plan.reason,
            refs=dict(out.refs),
            event_at=source.event_at,
            correlation_id=source.correlation_id,
        )

    async def email(
        self,
        messages: Messages,
        source: Source,
        message_type: str,
        to: Recipient,
        context: Mapping[str, Any],
        refs: Mapping[str, str | None],
    ) -> uuid.UUID | None:
        """An email to `to.raw`: it keeps its diacritics and has no segment budget."""
        address = to.raw
        body = self.render(
            message_type,
            language=to.language,
            diacritics=True,
            tz=to.tz,
            context=context,
            segment_budget=99,
        )
        message = NewMessage(
            dedup_key=f"{source.event_id}:{message_type}:{address.lower()}:email",
            message_type=message_type,
            channel="email",
            recipient=address,
            language=body.language,
            text=body.text,
            subject=render_subject(message_type, body.language, context),
            encoding=body.encoding,
            segments=body.segments,
            provider="smtp",
            refs=dict(refs),
            event_at=source.event_at,
            correlation_id=source.correlation_id,
        )
        return await messages.add(message)


def _has_own_settings(prefs: Mapping[str, Any]) -> bool:
    return bool(prefs["language"]) or prefs["diacritics"] is not None


def _observe(
    out: OutgoingSms, plan: Plan, sms: RenderedSms, message_id: uuid.UUID, recipient: str
) -> None:
    metrics.SEGMENTS.labels(out.message_type, sms.encoding).observe(sms.segments)
    if plan.status != "QUEUED":
        reason = plan.reason.split(":")[0] if plan.reason else plan.status
        metrics.FAILED.labels("none", "sms", reason).inc()
        log.warning("sms.not_sent", status=plan.status, reason=plan.reason, to=out.to.raw)
        return
    log.info(
        "sms.recorded",
        message_id=str(message_id),
        to=recipient,
        encoding=sms.encoding,
        segments=sms.segments,
        message_type=out.message_type,
    )
