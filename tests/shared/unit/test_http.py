"""The one refusal and the one streaming body cap every service's HTTP uses (shared/http.py),
driven through a real Starlette app by a hand-written ASGI client that counts what it sends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message

from shared.http import Refused, check_admin, read_body, refusal

LIMIT = 4096
CHUNK = 1024


async def echo_size(request: Request) -> Response:
    try:
        body = await read_body(request, LIMIT)
    except Refused as refused:
        return refusal("test", "echo", refused)
    return JSONResponse({"size": len(body)})


APP = Starlette(routes=[Route("/echo", echo_size, methods=["POST"])])


@dataclass
class Sent:
    """A request body sent as the server asks for it, one chunk per `receive()`."""

    chunks: Iterator[bytes]
    pulled: int = 0
    response: list[Message] = field(default_factory=list)

    async def receive(self) -> Message:
        chunk = next(self.chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        self.pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(self, message: Message) -> None:
        self.response.append(message)

    @property
    def status(self) -> int:
        return self.response[0]["status"]

    @property
    def json(self) -> dict:
        return json.loads(b"".join(m.get("body", b"") for m in self.response[1:]))


def chunks(count: int, size: int = CHUNK) -> Iterator[bytes]:
    for _ in range(count):
        yield b"x" * size


async def post(body: Iterator[bytes], content_length: int | None = None) -> Sent:
    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "server": ("test", 80),
        "client": ("test", 1),
    }
    sent = Sent(body)
    await APP(scope, sent.receive, sent.send)
    return sent


async def test_a_chunked_body_over_the_limit_is_refused_as_soon_as_it_passes_it() -> None:
    sent = await post(chunks(1000))
    assert sent.status == 413
    assert sent.json == {"error": "body_too_large", "detail": f"body over {LIMIT} bytes"}
    assert sent.pulled == LIMIT // CHUNK + 1  # the chunk that passed the limit, and no more


async def test_a_content_length_that_lies_low_does_not_let_more_bytes_in() -> None:
    sent = await post(chunks(1000), content_length=10)
    assert sent.status == 413
    assert sent.pulled == LIMIT // CHUNK + 1


async def test_a_content_length_over_the_limit_is_refused_before_a_byte_is_read() -> None:
    sent = await post(chunks(1000), content_length=LIMIT + 1)
    assert (sent.status, sent.json["error"]) == (413, "body_too_large")
    assert sent.pulled == 0


@pytest.mark.parametrize("content_length", [None, LIMIT])
async def test_a_body_of_exactly_the_limit_is_read_whole(content_length: int | None) -> None:
    sent = await post(chunks(LIMIT // CHUNK), content_length)
    assert (sent.status, sent.json) == (200, {"size": LIMIT})


async def test_a_body_one_byte_over_the_limit_is_refused() -> None:
    sent = await post(iter([b"x" * LIMIT, b"x"]))
    assert sent.status == 413


def test_a_refusal_answers_the_reason_and_detail_and_is_counted() -> None:
    labels = {"service": "test", "endpoint": "orders/show", "reason": "not_found"}
    before = REGISTRY.get_sample_value("ovop_requests_rejected_total", labels) or 0.0
    response = refusal("test", "orders/show", Refused(404, "not_found", "no order X"))
    assert response.status_code == 404
    assert json.loads(response.body) == {"error": "not_found", "detail": "no order X"}
    assert REGISTRY.get_sample_value("ovop_requests_rejected_total", labels) == before + 1


def test_a_refusal_about_fields_names_each_and_keeps_its_headers() -> None:
    fields = Refused.fields(422, "invalid", [("sku", "unknown"), ("stock", "negative")])
    assert json.loads(refusal("test", "admin/products", fields).body) == {
        "error": "invalid",
        "detail": "sku: unknown; stock: negative",
        "errors": [
            {"field": "sku", "message": "unknown"},
            {"field": "stock", "message": "negative"},
        ],
    }
    busy = refusal("test", "webhooks", Refused(503, "queue_full", headers={"retry-after": "60"}))
    assert (busy.status_code, busy.headers["retry-after"]) == (503, "60")


def _request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    ("token", "given", "status", "reason"),
    [
        (None, "Bearer s3cret", 503, "admin_disabled"),
        ("s3cret", None, 401, "unauthorised"),
        ("s3cret", "Bearer s3cre", 401, "unauthorised"),
        ("s3cret", "s3cret", 401, "unauthorised"),
    ],
)
def test_the_admin_token_is_required(
    token: str | None, given: str | None, status: int, reason: str
) -> None:
    with pytest.raises(Refused) as refused:
        check_admin(_request(given), token)
    assert (refused.value.status, refused.value.reason) == (status, reason)


def test_the_admin_token_lets_its_bearer_in() -> None:
    check_admin(_request("Bearer s3cret"), "s3cret")
