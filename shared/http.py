"""HTTP pieces every service uses: liveness, readiness (broker and database) and metrics; the
admin token; one way to refuse a request; one cap on a request's body; and routes to handlers.

A refused request answers `{"error": reason, "detail": text}`, and, when the refusal names
fields of the body, `"errors": [{"field", "message"}, ...]` too. `error` is a stable code that
clients branch on and `ovop_requests_rejected_total{service,endpoint,reason}` counts; `detail`
is for people.

A route handler is a module function `handler(request, deps)`: `route()` binds the service's
dependency object, so a test imports a handler and calls it with a dependency object of its own.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, TypeVar

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message

from shared.metrics import REQUESTS_REJECTED

log = structlog.get_logger(__name__)
ReadinessCheck = Callable[[], Awaitable[None]]
Deps = TypeVar("Deps", contravariant=True)


class Handler(Protocol[Deps]):
    """A route handler: the request, and the service's dependency object as `deps`."""

    __name__: str

    def __call__(self, request: Request, deps: Deps) -> Awaitable[Response]: ...


def health_routes(checks: dict[str, ReadinessCheck]) -> list[Route]:
    async def live(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(_: Request) -> Response:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout=3.0)
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                results[name] = f"failed: {type(exc).__name__}"
        ok = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", **results}, 200 if ok else 503
        )

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/health/live", live),
        Route("/health/ready", ready),
        Route("/metrics", metrics),
    ]


def route(
    path: str,
    handler: Handler[Deps],
    deps: Deps,
    methods: list[str] | None = None,
) -> Route:
    """A route to `handler(request, deps)`."""
    return Route(
        path, functools.partial(handler, deps=deps), methods=methods, name=handler.__name__
    )


class Refused(Exception):
    """A request refused before anything changed: raised anywhere below a handler, answered by
    `refusal`."""

    def __init__(
        self,
        status: int,
        reason: str,
        detail: str = "",
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or reason)
        self.status, self.reason, self.detail = status, reason, detail
        self.errors, self.headers = errors, headers

    @classmethod
    def fields(cls, status: int, reason: str, errors: Iterable[tuple[str, str]]) -> Refused:
        """A refusal that names each field at fault, with what is wrong with it."""
        named = [{"field": field, "message": message} for field, message in errors]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in named)
        return cls(status, reason, detail, errors=named)


def refusal(service: str, endpoint: str, refused: Refused, **context: object) -> Response:
    """The answer to a refused request, counted by reason and logged (with `context`)."""
    REQUESTS_REJECTED.labels(service, endpoint, refused.reason).inc()
    log.warning(
        "request.refused",
        endpoint=endpoint,
        reason=refused.reason,
        detail=refused.detail,
        **context,
    )
    body: dict[str, object] = {"error": refused.reason, "detail": refused.detail}
    if refused.errors is not None:
        body["errors"] = refused.errors
    return JSONResponse(body, refused.status, headers=refused.headers)


def check_admin(request: Request, token: str | None) -> None:
    """Raises Refused unless the request carries the admin bearer token (compared in constant
    time); 503 when no token is configured, so the admin API is off rather than open."""
    if not token:
        raise Refused(503, "admin_disabled", "admin API disabled: ADMIN_TOKEN is not set")
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Refused(401, "unauthorised", "admin credentials required")


def capped(request: Request, limit: int) -> Request:
    """`request` with a body of at most `limit` bytes: whatever reads it (`body()`, `form()`,
    `stream()`) gets Refused 413 `body_too_large` as soon as the bytes received pass the limit,
    whatever Content-Length said, so no more than `limit` bytes are ever held. A Content-Length
    over the limit is refused here, before any byte is read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(limit)
        return message

    return Request(request.scope, receive)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 past `limit` bytes (see `capped`)."""
    return await capped(request, limit).body()


def _too_large(limit: int) -> Refused:
    return Refused(413, "body_too_large", f"body over {limit} bytes")
