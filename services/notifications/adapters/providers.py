"""SMS providers behind one protocol: `dev` (records only), a Twilio-compatible HTTP API, eSMS.vn
and SpeedSMS. Each send ends in one outcome:

- accepted: the provider took the message (its id is kept to match delivery reports);
- retryable: throttled, 5xx, or nothing reached the provider: try again after a backoff;
- permanent: retrying the same request cannot help (bad number, bad credentials...);
- unknown: the request may have been taken (a timeout after sending) and the provider has no
  idempotency key, so sending again could duplicate it: reconcile through delivery reports.

A provider with an idempotency key (eSMS `RequestId`) turns such a timeout into "retryable".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, Protocol

import httpx
from tenacity import AsyncRetrying, retry_if_result, stop_after_attempt, wait_exponential_jitter

Outcome = Literal["accepted", "retryable", "permanent", "unknown"]
# Permanent reasons that no other provider can fix: the fallback chain stops there.
RECIPIENT_FAULTS = frozenset({"invalid_number", "opted_out"})


@dataclass(frozen=True)
class SmsRequest:
    message_id: uuid.UUID
    recipient: str  # E.164
    text: str
    unicode: bool = False  # UCS-2


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_message_id: str | None = None
    detail: str | None = None
    reason: str | None = None  # a short label for metrics: invalid_number, server_error...


class SmsProvider(Protocol):
    name: str
    idempotent: bool  # a resend of the same message cannot deliver it twice

    async def send(self, request: SmsRequest) -> SendResult: ...


class DevProvider:
    """Accepts everything; the message row in the database is the record of what was sent."""

    name = "dev"
    idempotent = True

    async def send(self, request: SmsRequest) -> SendResult:
        return SendResult("accepted", provider_message_id=f"dev-{request.message_id}")


class _HttpProvider:
    name = "http"
    idempotent = False

    def __init__(self, base_url: str, timeout_s: float) -> None:
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s)

    async def send(self, request: SmsRequest) -> SendResult:
        try:
            response = await self._post(request)
        except httpx.ConnectError as exc:  # nothing reached the provider
            return SendResult("retryable", detail=f"connect: {exc!r}", reason="connection")
        except httpx.ConnectTimeout:
            return SendResult("retryable", detail="connect timeout", reason="connection")
        except httpx.TimeoutException as exc:
            # The request may have arrived: only an idempotency key makes a resend safe.
            outcome: Outcome = "retryable" if self.idempotent else "unknown"
            return SendResult(outcome, detail=f"timeout: {type(exc).__name__}", reason="timeout")
        except httpx.TransportError as exc:
            outcome = "retryable" if self.idempotent else "unknown"
            return SendResult(outcome, detail=f"transport: {exc!r}", reason="transport")
        if response.status_code == 429:
            return SendResult("retryable", detail="throttled (429)", reason="throttled")
        if response.status_code >= 500:
            return SendResult(
                "retryable", detail=f"HTTP {response.status_code}", reason="server_error"
            )
        return self._classify(response)

    async def _post(self, request: SmsRequest) -> httpx.Response:
        raise NotImplementedError

    def _classify(self, response: httpx.Response) -> SendResult:
        raise NotImplementedError

    async def close(self) -> None:
        await self._client.aclose()


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class TwilioProvider(_HttpProvider):
    """Twilio's Messages API (or any compatible one). No idempotency key."""

    name = "twilio"
    INVALID_NUMBER = {21211, 21214, 21217, 21401, 21407, 21408, 21612, 21614}
    OPTED_OUT = {21610}

    def __init__(
        self,
        *,
        base_url: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        callback_base: str | None,
        timeout_s: float = 10.0,
    ) -> None:
        super().__init__(base_url, timeout_s)
        self._sid, self._token, self._from = account_sid, auth_token, sender
        self._callback_base = callback_base

    async def _post(self, request: SmsRequest) -> httpx.Response:
        form = {"To": request.recipient, "Body": request.text}
        form["MessagingServiceSid" if self._from.startswith("MG") else "From"] = self._from
        if self._callback_base:
            form["StatusCallback"] = f"{self._callback_base}/callbacks/twilio/{request.message_id}"
        return await self._client.post(
            f"/2010-04-01/Accounts/{self._sid}/Messages.json",
            data=form,
            auth=(self._sid, self._token),
        )

    def _classify(self, response: httpx.Response) -> SendResult:
        body = _json(response)
        if response.status_code in (200, 201) and body.get("sid"):
            return SendResult("accepted", provider_message_id=str(body["sid"]))
        code = body.get("code")
        detail = f"HTTP {response.status_code} code {code}: {body.get('message')}"
        if code in self.INVALID_NUMBER:
            return SendResult("permanent", detail=detail, reason="invalid_number")
        if code in self.OPTED_OUT:
            return SendResult("permanent", detail=detail, reason="opted_out")
        reason = "auth" if response.status_code in (401, 403) else "rejected"
        return SendResult("permanent", detail=detail, reason=reason)


class EsmsProvider(_HttpProvider):
    """eSMS.vn's JSON API. `RequestId` (our message id) makes a resend after a timeout safe:
    eSMS answers 124 (duplicate RequestId) instead of sending again."""

    name = "esms"
    idempotent = True
    PATH = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"
    PERMANENT = {
        "101": "auth",
        "103": "balance",
        "104": "brandname",
        "108": "invalid_number",
        "146": "template",
    }

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        secret_key: str,
        brandname: str,
        callback_base: str | None,
        callback_token: str | None,
        sandbox: bool = False,
        sms_type: int = 2,
        timeout_s: float = 10.0,
    ) -> None:
        super().__init__(base_url, timeout_s)
        self._key, self._secret, self._brandname = api_key, secret_key, brandname
        self._callback_base, self._callback_token = callback_base, callback_token
        self._sandbox, self._sms_type = sandbox, sms_type

    async def _post(self, request: SmsRequest) -> httpx.Response:
        body = {
            "ApiKey": self._key,
            "SecretKey": self._secret,
            "Phone": request.recipient.lstrip("+"),
            "Content": request.text,
            "Brandname": self._brandname,
            "SmsType": str(self._sms_type),
            "IsUnicode": "1" if request.unicode else "0",
            "Sandbox": "1" if self._sandbox else "0",
            "RequestId": str(request.message_id),
        }
        if self._callback_base and self._callback_token:
            body["CallbackUrl"] = (
                f"{self._callback_base}/callbacks/esms/{self._callback_token}/{request.message_id}"
            )
        return await self._client.post(self.PATH, json=body)

    def _classify(self, response: httpx.Response) -> SendResult:
        body = _json(response)
        code = str(body.get("CodeResult", ""))
        if code == "100":
            return SendResult("accepted", provider_message_id=str(body.get("SMSID") or ""))
        if code == "124":  # this RequestId was accepted before: the earlier send stands
            return SendResult(
                "accepted",
                provider_message_id=str(body.get("SMSID") or "") or None,
                detail="duplicate RequestId: accepted by an earlier attempt",
            )
        detail = f"CodeResult {code or '?'}: {body.get('ErrorMessage')}"
        if response.status_code >= 400 and not code:
            return SendResult("permanent", detail=f"HTTP {response.status_code}", reason="rejected")
        return SendResult("permanent", detail=detail, reason=self.PERMANENT.get(code, "rejected"))


class SpeedSmsProvider(_HttpProvider):
    """SpeedSMS.vn: Basic auth `token:x`, JSON `to[]`, `content`, `sms_type`, `sender`."""

    name = "speedsms"
    PERMANENT = {"007": "auth", "008": "auth", "009": "auth", "105": "invalid_number"}

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        sender: str,
        sms_type: int = 2,
        timeout_s: float = 10.0,
    ) -> None:
        super().__init__(base_url, timeout_s)
        self._token, self._sender, self._sms_type = token, sender, sms_type

    async def _post(self, request: SmsRequest) -> httpx.Response:
        body = {
            "to": [request.recipient.lstrip("+")],
            "content": request.text,
            "sms_type": self._sms_type,
            "sender": self._sender,
        }
        return await self._client.post("/index.php/sms/send", json=body, auth=(self._token, "x"))

    def _classify(self, response: httpx.Response) -> SendResult:
        body = _json(response)
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        if body.get("status") == "success" and data.get("tranId") is not None:
            if data.get("invalidPhone"):
                return SendResult("permanent", detail="invalid phone", reason="invalid_number")
            return SendResult("accepted", provider_message_id=str(data["tranId"]))
        code = str(body.get("code", ""))
        detail = f"HTTP {response.status_code} code {code}: {body.get('message')}"
        reason = self.PERMANENT.get(code, "auth" if response.status_code == 401 else "rejected")
        return SendResult("permanent", detail=detail, reason=reason)


async def send_with_retries(
    provider: SmsProvider,
    request: SmsRequest,
    *,
    attempts: int,
    backoff_initial_s: float,
    backoff_max_s: float,
) -> SendResult:
    """Send, retrying "retryable" outcomes with exponential backoff and jitter (tenacity). The
    last result is returned when the attempts run out."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_exponential_jitter(
            multiplier=backoff_initial_s, max=backoff_max_s, jitter=backoff_initial_s
        ),
        retry=retry_if_result(lambda result: result.outcome == "retryable"),
        retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
    )
    result: SendResult = await retrying(provider.send, request)
    return result
