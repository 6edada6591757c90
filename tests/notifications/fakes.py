"""Real HTTP fakes of the SMS providers (Twilio, eSMS.vn, SpeedSMS), served by uvicorn on a free
port, with a script of how to answer the next requests. They record what a handset would get:
one entry per message actually accepted (eSMS does not send a RequestId twice)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class FakeProvider:
    """script: how to answer the next requests, in order; then "ok". Entries: "ok", an HTTP
    status (500, 429, 400...), "slow" (accept, but answer after `slow_s`: a client timeout), or a
    provider error code (e.g. "108" for eSMS)."""

    script: list[object] = field(default_factory=list)
    slow_s: float = 3.0
    requests: list[dict] = field(default_factory=list)  # every request that arrived
    delivered: list[dict] = field(default_factory=list)  # every message accepted, once each
    request_times: list[float] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def next_step(self) -> object:
        return self.script.pop(0) if self.script else "ok"


def twilio_app(fake: FakeProvider, sid: str = "AC123", token: str = "tw-token") -> Starlette:
    expected = "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()

    async def messages(request: Request) -> Response:
        form = dict((await request.form()).items())
        fake.requests.append(form)
        fake.request_times.append(asyncio.get_running_loop().time())
        if request.headers.get("authorization") != expected:
            return JSONResponse({"code": 20003, "message": "Authenticate"}, 401)
        step = fake.next_step()
        if isinstance(step, int):
            code = 21211 if step == 400 else None
            return JSONResponse({"code": code, "message": f"scripted {step}"}, step)
        message_sid = f"SM{next(fake._ids):032d}"
        fake.delivered.append({"sid": message_sid, **form})
        if step == "slow":
            await asyncio.sleep(fake.slow_s)
        return JSONResponse({"sid": message_sid, "status": "queued", "to": form.get("To")}, 201)

    return Starlette(
        routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json", messages, methods=["POST"])]
    )


def esms_app(fake: FakeProvider) -> Starlette:
    seen: dict[str, str] = {}  # RequestId -> SMSID: eSMS refuses to send a RequestId twice

    async def send(request: Request) -> Response:
        body = await request.json()
        fake.requests.append(body)
        fake.request_times.append(asyncio.get_running_loop().time())
        if body.get("ApiKey") != "es-key" or body.get("SecretKey") != "es-secret":
            return JSONResponse({"CodeResult": "101", "ErrorMessage": "Authorize Failed"})
        step = fake.next_step()
        if isinstance(step, int):
            return Response("upstream error", step)
        if isinstance(step, str) and step.isdigit():
            return JSONResponse({"CodeResult": step, "ErrorMessage": f"scripted {step}"})
        request_id = body.get("RequestId")
        if request_id in seen:
            return JSONResponse(
                {
                    "CodeResult": "124",
                    "SMSID": seen[request_id],
                    "ErrorMessage": "Duplicate RequestId",
                }
            )
        sms_id = f"esms-{next(fake._ids)}"
        seen[request_id] = sms_id
        fake.delivered.append({"SMSID": sms_id, **body})
        if step == "slow":
            await asyncio.sleep(fake.slow_s)
        return JSONResponse({"CodeResult": "100", "CountRegenerate": 0, "SMSID": sms_id})

    return Starlette(
        routes=[
            Route("/MainService.svc/json/SendMultipleMessage_V4_post_json/", send, methods=["POST"])
        ]
    )


def speedsms_app(fake: FakeProvider, token: str = "sp-token") -> Starlette:
    expected = "Basic " + base64.b64encode(f"{token}:x".encode()).decode()

    async def send(request: Request) -> Response:
        body = await request.json()
        fake.requests.append(body)
        fake.request_times.append(asyncio.get_running_loop().time())
        if request.headers.get("authorization") != expected:
            return JSONResponse({"status": "error", "code": "007", "message": "auth"}, 401)
        step = fake.next_step()
        if isinstance(step, int):
            return Response("upstream error", step)
        if isinstance(step, str) and step.isdigit():
            return JSONResponse({"status": "error", "code": step, "message": "scripted"})
        tran_id = next(fake._ids)
        fake.delivered.append({"tranId": tran_id, **body})
        if step == "slow":
            await asyncio.sleep(fake.slow_s)
        return JSONResponse(
            {
                "status": "success",
                "code": "00",
                "data": {"tranId": tran_id, "totalSMS": 1, "totalPrice": 250, "invalidPhone": []},
            }
        )

    return Starlette(routes=[Route("/index.php/sms/send", send, methods=["POST"])])


@contextlib.asynccontextmanager
async def serving(app: Starlette, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 in this event loop; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
