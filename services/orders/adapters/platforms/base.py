"""What every platform client shares: bounded retries with backoff on transient failures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from services.orders.adapters.platforms.channel import Account

T = TypeVar("T")


DEFAULT_TIMEOUT_S = 5.0


def platform_timeout(seconds: float = DEFAULT_TIMEOUT_S) -> httpx.Timeout:
    """How long one API call may take. Shopee answers pushes within 3 s; a detail call that
    takes longer is retried later."""
    return httpx.Timeout(seconds, connect=min(seconds, 3.0))


class PlatformError(Exception):
    """The platform refused the call (bad credentials, unknown order): retrying now won't help,
    though a later attempt (after the operator fixed the account) may."""


class Transient(PlatformError):
    """A 5xx, a 429, a timeout or a dropped connection: worth retrying at once, with backoff."""


class Unsupported(PlatformError):
    """This platform (or account) cannot do that call."""


class PlatformClient(Protocol):
    account: Account

    async def fetch_order(self, external_id: str) -> dict[str, Any]: ...

    async def update_stock(self, channel_sku: str, available: int) -> None: ...


async def with_retries(
    call: Callable[[], Awaitable[T]], *, attempts: int = 3, initial_s: float = 0.2
) -> T:
    """`call` retried on transient failures with exponential backoff and jitter (tenacity)."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(multiplier=initial_s, max=2.0, jitter=initial_s),
        retry=retry_if_exception_type(Transient),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Http:
    """The HTTP client a platform client calls through, and how long one call may take."""

    client: httpx.AsyncClient
    timeout: httpx.Timeout

    @classmethod
    def of(cls, client: httpx.AsyncClient, timeout_s: float) -> Http:
        return cls(client, platform_timeout(timeout_s))


async def send(http: Http, method: str, url: str, **kwargs: Any) -> Any:
    """The JSON body of a successful call; Transient for what may pass, PlatformError else."""
    try:
        resp = await http.client.request(method, url, timeout=http.timeout, **kwargs)
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise Transient(f"{method} {url.split('?')[0]}: {type(exc).__name__}") from exc
    if resp.status_code == 429 or resp.status_code >= 500:
        raise Transient(f"{method} {url.split('?')[0]}: HTTP {resp.status_code}")
    if resp.status_code >= 400:
        raise PlatformError(
            f"{method} {url.split('?')[0]}: HTTP {resp.status_code} {resp.text[:200]}"
        )
    try:
        return resp.json()
    except ValueError as exc:
        raise Transient(f"{method} {url.split('?')[0]}: body is not JSON") from exc


def secret_of(account: Account) -> str:
    """The newest secret signs our calls (the previous one only still verifies pushes)."""
    if not account.secrets:
        raise PlatformError(f"{account.platform}/{account.account} has no secret")
    return account.secrets[0]


def require(account: Account, *keys: str) -> None:
    """A client without its credentials is not configured for API calls (e.g. a webhook-only
    account): Unsupported, so nothing is sent to the real platform with half a setup."""
    missing = [k for k in keys if not account.get(k)]
    if missing:
        raise Unsupported(
            f"{account.platform}/{account.account} has no {', '.join(missing)}: no API calls"
        )


def api_base(account: Account, default: str) -> str:
    return (account.get("api_base") or default).rstrip("/")
