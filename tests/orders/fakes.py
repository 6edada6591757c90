"""Fake sales platforms: one real HTTP server (uvicorn on a free port) answering the calls our
clients make, in each platform's documented format, and checking each platform's signing with
tests/orders/platform_signing.py (written from the platforms' documents, apart from our clients'
signers). A test loads orders and products into it, injects failures, and reads what was pushed."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import re
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.orders.platform_signing import (
    lazada_api_sign,
    shopee_api_sign,
    tiki_basic_authorization,
    tiktok_api_sign,
)

PARTNER_ID, SHOP_ID, TOKEN = "2001887", "220011", "shop-access-token"
APP_KEY = "112233"


@dataclass
class Fake:
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    orders: dict[str, Any] = field(default_factory=dict)
    products: dict[str, str] = field(default_factory=dict)  # seller SKU -> product/item id
    stock: dict[str, int] = field(default_factory=dict)  # seller SKU -> last stock pushed
    stock_calls: list[tuple[str, int]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    fail_next: int = 0  # answer this many calls with HTTP 500
    slow_next: int = 0  # answer this many calls after `slow_s`
    slow_s: float = 2.0
    refused_signatures: int = 0


class FakePlatforms:
    def __init__(self) -> None:
        self.shopee, self.lazada, self.tiktok = Fake(), Fake(), Fake()
        self.tiki, self.woo, self.shopify = Fake(), Fake(), Fake()
        self.tiki_queue: list[dict[str, Any]] = []
        self.tiki_acked: list[str] = []
        self.tiki_tokens: set[str] = set()
        self.shopee_list_windows: list[tuple[int, int]] = []
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> FakePlatforms:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(
            self.app(),
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server and self._task
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _gate(self, fake: Fake, name: str) -> Response | None:
        fake.calls.append(name)
        if fake.fail_next > 0:
            fake.fail_next -= 1
            return JSONResponse({"error": "error_server", "message": "try later"}, 500)
        if fake.slow_next > 0:
            fake.slow_next -= 1
            await asyncio.sleep(fake.slow_s)
        return None

    # Shopee: the sign over the call's own partner_id, path, timestamp, token and shop_id, which
    # must also be this shop's, within 5 minutes.
    async def shopee_call(self, request: Request) -> Response:
        fake, q = self.shopee, request.query_params
        path = request.url.path.removeprefix("/shopee")
        common = [q.get(k, "") for k in ("partner_id", "timestamp", "access_token", "shop_id")]
        partner, timestamp, token, shop = common
        expected = shopee_api_sign(fake.secret, partner, path, timestamp, token, shop)
        if (
            not hmac.compare_digest(q.get("sign", ""), expected)
            or (partner, token, shop) != (PARTNER_ID, TOKEN, SHOP_ID)
            or not _recent(timestamp)
        ):
            fake.refused_signatures += 1
            return JSONResponse({"error": "error_sign", "message": "Wrong sign."}, 403)
        if refused := await self._gate(fake, path):
            return refused
        if path.endswith("/order/get_order_detail"):
            detail = fake.orders.get(q.get("order_sn_list", ""))
            if detail is None:
                return JSONResponse({"error": "error_not_found", "message": "no order"})
            return JSONResponse(detail)
        if path.endswith("/order/get_order_list"):
            since, until = int(q["time_from"]), int(q["time_to"])
            self.shopee_list_windows.append((since, until))
            listed = [
                {"order_sn": sn, "order_status": o["response"]["order_list"][0]["order_status"]}
                for sn, o in sorted(fake.orders.items())
                if since <= o["response"]["order_list"][0]["update_time"] <= until
            ]
            start = int(q.get("cursor") or 0)
            page = listed[start : start + int(q["page_size"])]
            more = start + len(page) < len(listed)
            return JSONResponse(
                {
                    "error": "",
                    "response": {
                        "order_list": page,
                        "more": more,
                        "next_cursor": str(start + len(page)),
                    },
                }
            )
        if path.endswith("/product/search_item"):
            item = fake.products.get(q.get("item_sku", ""))
            return JSONResponse(
                {"error": "", "response": {"item_id_list": [int(item)] if item else []}}
            )
        if path.endswith("/product/update_stock"):
            body = await request.json()
            sku = next(k for k, v in fake.products.items() if int(v) == body["item_id"])
            qty = body["stock_list"][0]["seller_stock"][0]["stock"]
            fake.stock[sku] = qty
            fake.stock_calls.append((sku, qty))
            return JSONResponse({"error": "", "response": {"success_list": [{"model_id": 0}]}})
        return JSONResponse({"error": "error_not_found"}, 404)

    # Lazada: sign = uppercase hex HMAC(app secret, path + sorted key+value).
    async def lazada_call(self, request: Request) -> Response:
        fake, path = self.lazada, request.url.path.removeprefix("/lazada")
        params = dict(request.query_params)
        if request.method == "POST":
            params |= await _form(request)
        sign = params.pop("sign", "")
        if params.get("app_key") != APP_KEY or not hmac.compare_digest(
            sign, lazada_api_sign(fake.secret, path, params)
        ):
            fake.refused_signatures += 1
            return JSONResponse({"code": "IncompleteSignature", "message": "bad sign"})
        if refused := await self._gate(fake, path):
            return refused
        order = fake.orders.get(params.get("order_id", ""))
        if path == "/order/get" and order:
            return JSONResponse(order["order"])
        if path == "/order/items/get" and order:
            return JSONResponse(order["items"])
        if path == "/product/stock/sellable/update":
            sku = re.search(r"<SellerSku>(.*?)</SellerSku>", params["payload"]).group(1)
            qty = int(re.search(r"<SellableQuantity>(\d+)<", params["payload"]).group(1))
            fake.stock[sku] = qty
            fake.stock_calls.append((sku, qty))
            return JSONResponse({"code": "0", "data": {}})
        return JSONResponse({"code": "ORDER_NOT_FOUND", "message": "no such order"})

    # TikTok: the sign over the path, the sorted query and the exact body, wrapped in the secret;
    # the token in a header; a 10-digit timestamp within 5 minutes.
    async def tiktok_call(self, request: Request) -> Response:
        fake, path = self.tiktok, request.url.path.removeprefix("/tiktok")
        params = dict(request.query_params)
        body = await request.body()
        sign = params.pop("sign", "")
        expected = tiktok_api_sign(
            fake.secret, path, params, body, request.headers.get("content-type", "")
        )
        if (
            request.headers.get("x-tts-access-token") != TOKEN
            or not hmac.compare_digest(sign, expected)
            or not _recent(params.get("timestamp", ""))
        ):
            fake.refused_signatures += 1
            return JSONResponse({"code": 106001, "message": "invalid sign"}, 401)
        if refused := await self._gate(fake, path):
            return refused
        if path == "/order/202309/orders":
            detail = fake.orders.get(params.get("ids", ""))
            return JSONResponse(detail or {"code": 0, "data": {"orders": []}})
        if path == "/product/202312/products/search":
            wanted = (await request.json())["seller_skus"][0]
            pid = fake.products.get(wanted)
            products = (
                [{"id": pid, "skus": [{"id": f"s{pid}", "seller_sku": wanted}]}] if pid else []
            )
            return JSONResponse({"code": 0, "data": {"products": products}})
        if m := re.fullmatch(r"/product/202309/products/(\w+)/inventory/update", path):
            sku = next(k for k, v in fake.products.items() if v == m.group(1))
            qty = (await request.json())["skus"][0]["inventory"][0]["quantity"]
            fake.stock[sku] = qty
            fake.stock_calls.append((sku, qty))
            return JSONResponse({"code": 0, "data": {}})
        return JSONResponse({"code": 404, "message": "not found"}, 404)

    # Tiki: OAuth2 client credentials, then bearer calls.
    async def tiki_token(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        expected = tiki_basic_authorization(APP_KEY, self.tiki.secret)
        form = await _form(request)
        if (
            not hmac.compare_digest(auth, expected)
            or form.get("grant_type") != "client_credentials"
        ):
            self.tiki.refused_signatures += 1
            return JSONResponse({"error": "invalid_client"}, 401)
        token = secrets.token_hex(8)
        self.tiki_tokens.add(token)
        return JSONResponse({"access_token": token, "expires_in": 3600, "token_type": "bearer"})

    async def tiki_call(self, request: Request) -> Response:
        fake, path = self.tiki, request.url.path.removeprefix("/tiki")
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tiki_tokens:
            fake.refused_signatures += 1
            return JSONResponse({"error": "unauthorized"}, 401)
        if refused := await self._gate(fake, path):
            return refused
        if path.endswith("/events/pull"):
            events, self.tiki_queue = self.tiki_queue[:10], self.tiki_queue[10:]
            ack = secrets.token_hex(4) if events else None
            if ack:
                self._unacked = (ack, events)
            return JSONResponse({"ack_id": ack, "events": events})
        if path.endswith("/events/ack"):
            ack = (await request.json())["ack_id"]
            self.tiki_acked.append(ack)
            return JSONResponse({"status": "ok"})
        if m := re.fullmatch(r"/integration/v2/orders/(\w+)", path):
            order = fake.orders.get(m.group(1))
            return JSONResponse(order) if order else JSONResponse({"error": "not found"}, 404)
        if path == "/integration/v2/products/updateSku":
            body = await request.json()
            fake.stock[body["original_sku"]] = body["quantity"]
            fake.stock_calls.append((body["original_sku"], body["quantity"]))
            return JSONResponse({"state": "approved"})
        return JSONResponse({"error": "not found"}, 404)

    # WooCommerce REST v3: consumer key and secret as basic auth.
    async def woo_call(self, request: Request) -> Response:
        fake, path = self.woo, request.url.path.removeprefix("/woo/wp-json/wc/v3")
        expected = "Basic " + base64.b64encode(f"{APP_KEY}:{fake.secret}".encode()).decode()
        if not hmac.compare_digest(request.headers.get("authorization", ""), expected):
            fake.refused_signatures += 1
            return JSONResponse({"code": "woocommerce_rest_cannot_view"}, 401)
        if refused := await self._gate(fake, path):
            return refused
        if path == "/products":
            pid = fake.products.get(request.query_params.get("sku", ""))
            return JSONResponse(
                [{"id": int(pid), "sku": request.query_params["sku"]}] if pid else []
            )
        if m := re.fullmatch(r"/products/(\d+)", path):
            sku = next(k for k, v in fake.products.items() if v == m.group(1))
            qty = (await request.json())["stock_quantity"]
            fake.stock[sku] = qty
            fake.stock_calls.append((sku, qty))
            return JSONResponse({"id": int(m.group(1)), "stock_quantity": qty})
        return JSONResponse({"code": "rest_no_route"}, 404)

    # Shopify Admin GraphQL: the access token in a header.
    async def shopify_graphql(self, request: Request) -> Response:
        fake = self.shopify
        if request.headers.get("x-shopify-access-token") != TOKEN:
            fake.refused_signatures += 1
            return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
        if refused := await self._gate(fake, "graphql"):
            return refused
        body = await request.json()
        if "productVariants" in body["query"]:
            sku = json.loads(body["variables"]["q"].removeprefix("sku:"))
            item = fake.products.get(sku)
            nodes = [{"sku": sku, "inventoryItem": {"id": item}}] if item else []
            return JSONResponse({"data": {"productVariants": {"nodes": nodes}}})
        change = body["variables"]["input"]["quantities"][0]
        assert change["locationId"] == "gid://shopify/Location/1"
        sku = next(k for k, v in fake.products.items() if v == change["inventoryItemId"])
        fake.stock[sku] = change["quantity"]
        fake.stock_calls.append((sku, change["quantity"]))
        return JSONResponse({"data": {"inventorySetQuantities": {"userErrors": []}}})

    def app(self) -> Starlette:
        any_method = ["GET", "POST", "PUT"]
        return Starlette(
            routes=[
                Route("/shopee/api/v2/{rest:path}", self.shopee_call, methods=any_method),
                Route("/lazada/{rest:path}", self.lazada_call, methods=any_method),
                Route("/tiktok/{rest:path}", self.tiktok_call, methods=any_method),
                Route("/tiki/sc/oauth2/token", self.tiki_token, methods=["POST"]),
                Route("/tiki/{rest:path}", self.tiki_call, methods=any_method),
                Route("/woo/{rest:path}", self.woo_call, methods=any_method),
                Route(
                    "/shopify/admin/api/2025-07/graphql.json",
                    self.shopify_graphql,
                    methods=["POST"],
                ),
            ]
        )

    def settings(self, platform: str) -> dict[str, str]:
        """The channel account settings pointing at this fake."""
        return {
            "shopee": {
                "partner_id": PARTNER_ID,
                "shop_id": SHOP_ID,
                "access_token": TOKEN,
                "api_base": f"{self.base}/shopee",
                "callback_url": "https://ovop.example/webhooks/shopee/sp-shop",
            },
            "lazada": {
                "app_key": APP_KEY,
                "access_token": TOKEN,
                "api_base": f"{self.base}/lazada",
            },
            "tiktok-shop": {
                "app_key": APP_KEY,
                "access_token": TOKEN,
                "shop_id": "cipher-1",
                "api_base": f"{self.base}/tiktok",
            },
            "tiki": {"app_key": APP_KEY, "queue": "q-ovop", "api_base": f"{self.base}/tiki"},
            "shopify": {
                "access_token": TOKEN,
                "location_id": "gid://shopify/Location/1",
                "api_base": f"{self.base}/shopify",
            },
            "woocommerce": {
                "app_key": APP_KEY,
                "access_token": self.woo.secret,
                "api_base": f"{self.base}/woo",
            },
        }[platform]

    def secret(self, platform: str) -> str:
        return {
            "shopee": self.shopee,
            "lazada": self.lazada,
            "tiktok-shop": self.tiktok,
            "tiki": self.tiki,
            "woocommerce": self.woo,
        }[platform].secret


def _recent(timestamp: str, window_s: int = 300) -> bool:
    """A unix time in seconds within the platform's window of now (not milliseconds)."""
    return timestamp.isdigit() and abs(int(timestamp) - time.time()) <= window_s


async def _form(request: Request) -> dict[str, str]:
    """A form body, read without python-multipart (which the project does not need)."""
    return dict(parse_qsl((await request.body()).decode()))
