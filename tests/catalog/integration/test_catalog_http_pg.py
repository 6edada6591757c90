"""The catalog's HTTP routes on a real PostgreSQL: the admin API refuses bad input precisely and
changes nothing, and the story page speaks the buyer's language with its JSON-LD and QR code."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import segno
from starlette.applications import Starlette

from services.catalog import bootstrap
from services.catalog.settings import CatalogSettings
from shared.settings import ServiceSettings

pytestmark = pytest.mark.integration

TOKEN = "test-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE_URL = "https://ovop.example/shop"

PRODUCER = {
    "producer_id": "PRD-QA-001",
    "name": "Hợp tác xã Chè Tân Cương",
    "kind": "cooperative",
    "village": "Tân Cương",
    "province": "Thái Nguyên",
    "country": "VN",
    "lat": 21.5622,
    "lon": 105.7669,
    "phone": "0912 000 150",
    "languages": ["vi"],
    "sms_language": "vi",
    "programme": "OCOP",
    "stars": 4,
    "certifications": ["VietGAP"],
    "story": {"vi": "Chè búp hái tay trên đồi.", "en": "Tea buds picked by hand on the hills."},
}
PRODUCT = {
    "sku": "QA-TEA-200",
    "producer_id": "PRD-QA-001",
    "names": {"vi": "Chè xanh Tân Cương 200 g", "en": "Tân Cương green tea 200 g"},
    "descriptions": {"vi": "Chè móc câu.", "en": "Hook-shaped green tea."},
    "price": 180000,
    "currency": "VND",
    "weight_g": 250,
    "shelf_life_days": 365,
    "stock": 20,
    "story": {
        "origin": "Tân Cương, Thái Nguyên",
        "materials": ["Tea buds"],
        "process": ["Pick", "Wither", "Roast in a pan"],
        "photos": ["https://example.org/tea.jpg"],
    },
}


@pytest.fixture(scope="module")
async def client(catalog_pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(service="catalog", admin_token=TOKEN)
    service = bootstrap.build(settings, CatalogSettings(public_base_url=BASE_URL, jobs=False))
    service.pool = catalog_pool  # the routes need only the pool: no broker here
    app = Starlette(routes=service.routes(service))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://catalog"
    ) as http:
        assert (await http.post("/admin/producers", json=PRODUCER, headers=AUTH)).status_code == 201
        assert (await http.post("/admin/products", json=PRODUCT, headers=AUTH)).status_code == 201
        yield http


async def counts(pool: asyncpg.Pool) -> tuple[int, ...]:
    async with pool.acquire() as conn:
        return tuple(
            [
                await conn.fetchval(f"SELECT count(*) FROM {table}")
                for table in ("producers", "products", "channel_listings", "stock_ledger")
            ]
        )


def fields(response: httpx.Response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


async def test_the_admin_api_needs_the_bearer_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/admin/products/QA-TEA-200")).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (await client.get("/admin/products/QA-TEA-200", headers=wrong)).status_code == 401


async def test_a_created_producer_has_its_phone_in_e164(client: httpx.AsyncClient) -> None:
    got = await client.get("/admin/producers/PRD-QA-001", headers=AUTH)
    assert got.status_code == 200 and got.json()["phone"] == "+84912000150"


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/admin/producers", PRODUCER, 409, "producer_id"),
        ("/admin/producers", {**PRODUCER, "producer_id": "PRD-QA-002", "lat": 123.4}, 422, "lat"),
        ("/admin/producers", {**PRODUCER, "producer_id": "PRD-QA-002", "lon": "x"}, 422, "lon"),
        (
            "/admin/producers",
            {**PRODUCER, "producer_id": "PRD-QA-002", "phone": "12345"},
            422,
            "phone",
        ),
        ("/admin/products", PRODUCT, 409, "sku"),
        ("/admin/products", {**PRODUCT, "sku": "QA-TEA-2", "price": -1}, 422, "price"),
        ("/admin/products", {**PRODUCT, "sku": "QA-TEA-2", "stock": -5}, 422, "stock"),
        (
            "/admin/products",
            {**PRODUCT, "sku": "QA-TEA-2", "producer_id": "PRD-QA-999"},
            422,
            "producer_id",
        ),
        (
            "/admin/listings",
            {"channel": "lazada", "account": "vn", "channel_sku": "LZ-1", "sku": "QA-NONE-1"},
            422,
            "sku",
        ),
    ],
    ids=[
        "duplicate-producer",
        "latitude",
        "longitude",
        "phone",
        "duplicate-sku",
        "negative-price",
        "negative-stock",
        "unknown-producer",
        "unknown-sku",
    ],
)
async def test_bad_input_names_the_field_and_changes_nothing(
    client: httpx.AsyncClient, catalog_pool: asyncpg.Pool, path, body, status, field
) -> None:
    before = await counts(catalog_pool)
    response = await client.post(path, json=body, headers=AUTH)
    assert response.status_code == status, response.text
    assert field in fields(response)
    assert await counts(catalog_pool) == before


async def test_a_malformed_body_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/admin/products", content=b"{nope", headers=AUTH)
    assert response.status_code == 400 and fields(response) == ["body"]


async def test_listings_map_a_channel_sku_once(client: httpx.AsyncClient) -> None:
    listing = {"channel": "lazada", "account": "vn-1", "channel_sku": "LZ-7", "sku": "QA-TEA-200"}
    assert (await client.post("/admin/listings", json=listing, headers=AUTH)).status_code == 201
    got = await client.get("/admin/products/QA-TEA-200", headers=AUTH)
    assert {"channel": "lazada", "account": "vn-1", "channel_sku": "LZ-7"} in got.json()[
        "listings"
    ]
    assert got.json()["stock"]["on_hand"] == 20
    gone = await client.delete("/admin/listings/lazada/vn-1/LZ-7", headers=AUTH)
    assert gone.status_code == 204
    again = await client.delete("/admin/listings/lazada/vn-1/LZ-7", headers=AUTH)
    assert again.status_code == 404


async def test_stock_adjustments_by_delta_or_count_and_their_refusals(
    client: httpx.AsyncClient, catalog_pool: asyncpg.Pool
) -> None:
    url = "/admin/stock/QA-TEA-200/adjustments"
    added = await client.post(url, json={"delta": 5, "note": "harvest"}, headers=AUTH)
    assert added.status_code == 200 and added.json()["on_hand"] == 25
    counted = await client.post(url, json={"on_hand": 18, "note": "count"}, headers=AUTH)
    assert counted.json() == {"sku": "QA-TEA-200", "on_hand": 18, "reserved": 0, "available": 18}
    before = await counts(catalog_pool)
    assert fields(await client.post(url, json={"delta": -19}, headers=AUTH)) == ["delta"]
    assert fields(await client.post(url, json={"delta": "3"}, headers=AUTH)) == ["delta"]
    assert fields(await client.post(url, json={"on_hand": -1}, headers=AUTH)) == ["on_hand"]
    assert fields(await client.post(url, json={"qty": 1}, headers=AUTH)) == ["qty"]
    unknown = await client.post(
        "/admin/stock/QA-NONE-1/adjustments", json={"delta": 1}, headers=AUTH
    )
    assert unknown.status_code == 404
    assert await counts(catalog_pool) == before
    ledger = (await client.get("/admin/stock/QA-TEA-200", headers=AUTH)).json()["ledger"]
    assert [row["note"] for row in ledger[:2]] == ["count", "harvest"]


def json_ld(html: str) -> dict:
    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(block)


async def test_the_story_page_speaks_english_when_asked(client: httpx.AsyncClient) -> None:
    response = await client.get("/p/QA-TEA-200?lang=en")
    assert response.status_code == 200 and response.headers["content-language"] == "en"
    html = response.text
    assert "Tân Cương green tea 200 g" in html and "Tea buds picked by hand" in html
    assert "★★★★☆" in html and "Who makes it" in html
    assert "https://www.openstreetmap.org/?mlat=21.56220&amp;mlon=105.76690" in html
    data = json_ld(html)
    assert data["@type"] == "Product" and data["sku"] == "QA-TEA-200"
    assert data["name"] == "Tân Cương green tea 200 g"
    assert data["offers"]["price"] == "180000" and data["offers"]["priceCurrency"] == "VND"
    assert data["offers"]["availability"] == "https://schema.org/InStock"
    assert data["url"] == f"{BASE_URL}/p/QA-TEA-200"
    assert data["manufacturer"]["location"]["geo"]["latitude"] == 21.5622


async def test_the_story_page_follows_accept_language(client: httpx.AsyncClient) -> None:
    accept = {"Accept-Language": "fr;q=1, vi;q=0.8, en;q=0.5"}
    vi = await client.get("/p/QA-TEA-200", headers=accept)
    assert vi.headers["content-language"] == "vi"
    assert "Chè xanh Tân Cương 200 g" in vi.text and "Chè búp hái tay" in vi.text
    assert "180.000 VND" in vi.text and json_ld(vi.text)["name"] == "Chè xanh Tân Cương 200 g"
    en = await client.get("/p/QA-TEA-200", headers={"Accept-Language": "en-GB,vi;q=0.3"})
    assert en.headers["content-language"] == "en" and "180,000 VND" in en.text


async def test_the_qr_code_encodes_the_public_url_from_configuration(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/p/QA-TEA-200/qr.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.content == qr(f"{BASE_URL}/p/QA-TEA-200")
    assert response.content != qr("http://127.0.0.1:8002/p/QA-TEA-200")  # not the default


def qr(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, border=2)
    return buffer.getvalue()


async def test_unknown_skus_are_404_on_the_page_and_the_qr(client: httpx.AsyncClient) -> None:
    assert (await client.get("/p/QA-NONE-1")).status_code == 404
    assert (await client.get("/p/QA-NONE-1/qr.svg")).status_code == 404
