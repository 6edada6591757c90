"""Email for buyers over SMTP. The standard library's client runs in a thread; the Message-ID
is derived from our message id, so a resend is recognisable as the same message."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import uuid
from dataclasses import dataclass
from email.message import EmailMessage

from services.notifications.adapters.providers import SendResult


@dataclass(frozen=True)
class EmailRequest:
    message_id: uuid.UUID
    recipient: str
    subject: str
    text: str


class SmtpSender:
    name = "smtp"
    idempotent = False

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout_s: float = 10.0,
    ) -> None:
        self._host, self._port, self._from = host, port, sender
        self._user, self._password, self._starttls = user, password, starttls
        self._timeout = timeout_s

    async def send(self, request: EmailRequest) -> SendResult:
        return await asyncio.to_thread(self._send, request)

    def _send(self, request: EmailRequest) -> SendResult:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self._from, request.recipient, request.subject
        msg["Message-ID"] = f"<{request.message_id}@ovop.notifications>"
        msg.set_content(request.text)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls()
                if self._user and self._password:
                    smtp.login(self._user, self._password)
                smtp.send_message(msg)
        except (ConnectionRefusedError, socket.gaierror, smtplib.SMTPConnectError) as exc:
            return SendResult("retryable", detail=f"connect: {exc!r}", reason="connection")
        except smtplib.SMTPRecipientsRefused as exc:
            return SendResult("permanent", detail=repr(exc), reason="invalid_address")
        except smtplib.SMTPResponseException as exc:
            outcome = "retryable" if 400 <= exc.smtp_code < 500 else "permanent"
            return SendResult(
                outcome,
                detail=f"{exc.smtp_code} {exc.smtp_error!r}",
                reason=f"smtp_{exc.smtp_code // 100}xx",
            )
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            return SendResult("unknown", detail=repr(exc), reason="timeout")
        return SendResult("accepted", provider_message_id=msg["Message-ID"])
