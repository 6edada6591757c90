"""The partner-events handler is a plain function: imported and called here with a request and a
dependency object of the test's own. What it refuses never reaches the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace

from prometheus_client import REGISTRY
from starlette.requests import Request
from starlette.types import Message

from services.logistics.entrypoints.http import MAX_BODY, LogisticsHttp, partner_events
from services.logistics.settings import LogisticsSettings


class UntouchableBus:
    async def handle(self, message: object) -> None:
        raise AssertionError("a refused request must not reach the bus (nor the database)")


DEPS = LogisticsHttp(
    SimpleNamespace(bus=UntouchableBus()),  # type: ignore[arg-type]
    LogisticsSettings(partner_secrets={"acme": "s3cret"}),
)


def partner_request(partner: str, chunks: Iterator[bytes]) -> tuple[Request, list[int]]:
    pulled = [0]

    async def receive() -> Message:
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled[0] += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/partners/{partner}/events",
        "headers": [],
        "path_params": {"partner": partner},
    }
    return Request(scope, receive), pulled


def counted(partner: str, outcome: str) -> float:
    labels = {"partner": partner, "outcome": outcome}
    return REGISTRY.get_sample_value("ovop_logistics_partner_events_total", labels) or 0.0


async def test_an_endless_partner_body_is_refused_once_it_passes_the_limit() -> None:
    endless = iter(lambda: b"x" * 65536, None)
    request, pulled = partner_request("acme", endless)
    before = counted("acme", "body_too_large")
    response = await partner_events(request, DEPS)
    assert (response.status_code, json.loads(response.body)["error"]) == (413, "body_too_large")
    assert pulled[0] == MAX_BODY // 65536 + 1
    assert counted("acme", "body_too_large") == before + 1


async def test_an_unknown_partner_is_refused_before_its_body_is_read() -> None:
    request, pulled = partner_request("nobody", iter([b"{}"]))
    response = await partner_events(request, DEPS)
    assert (response.status_code, json.loads(response.body)) == (
        404,
        {"error": "unknown_partner", "detail": "no partner 'nobody'"},
    )
    assert pulled[0] == 0
