"""Operators' own ids on a real PostgreSQL: imported with `ovop catalog import` (lower case,
digits only, dots, underscores, spaces, a slash, Vietnamese letters, typed decomposed or padded),
with TikTok Shop listings under the names operators type; then reserved by an OrderPlaced and
shown on the story page, whose URL carries each id percent-encoded."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from click.testing import CliRunner, Result
from starlette.applications import Starlette

from services.catalog import bootstrap
from services.catalog.adapters.postgres import stock_level
from services.catalog.commands import ReserveStock
from services.catalog.domain import StockLevel
from services.catalog.settings import CatalogSettings
from services.cli import main
from shared.contracts.events import OrderLine, OrderPlaced, StockReserved
from shared.settings import ServiceSettings
from tests.shared.integration.delivery import outbox

pytestmark = pytest.mark.integration

BASE_URL = "https://ovop.example"
TOKEN = "test-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SHOP = "Cửa hàng Mật ong"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


PRODUCERS = """producer_id,name,phone,province,village,lat,lon
htx-mật-ong,HTX Mật ong Mèo Vạc,0912 000 180,Hà Giang,Pả Vi,23.16,105.41
 0042 ,Hộ bà Lan,0912000181,Hà Giang,Lũng Cú,23.36,105.31
"""
# The second product names its producer decomposed, as some keyboards type Vietnamese.
PRODUCTS = f"""sku,producer_id,name,price,currency,weight_g,stock
hg.honey_500,htx-mật-ong,Mật ong bạc hà 500 g,450000,VND,750,10
Mật ong 500g,{nfd("htx-mật-ong")},Mật ong rừng 500 g,300000,VND,700,5
0042/TRA-1,0042,Trà shan,100000,VND,200,3
ABC,0042,Upper case,1000,VND,100,1
abc,0042,Lower case,1000,VND,100,2
"""
LISTINGS = f"""channel,account,channel_sku,sku
TikTok Shop,{SHOP},TT mật ong 500,hg.honey_500
tiktok,{nfd(SHOP)},TT-RUNG-500,Mật ong 500g
tiktok_shop,{SHOP},TT-abc,abc
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


async def ovop(url: str, *args: str) -> Result:
    runner = CliRunner()
    env = {"CATALOG_DATABASE_URL": url}
    return await asyncio.to_thread(
        runner.invoke, main, ["catalog", "import", *args], env=env, catch_exceptions=False
    )


@pytest.fixture(scope="module")
async def imported(catalog_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Result:
    tmp = tmp_path_factory.mktemp("ids")
    return await ovop(
        catalog_db_url,
        "--producers", str(write(tmp, "producers.csv", PRODUCERS)),
        "--products", str(write(tmp, "products.csv", PRODUCTS)),
        "--listings", str(write(tmp, "listings.csv", LISTINGS)),
    )  # fmt: skip


@pytest.fixture(scope="module")
async def client(catalog_pool: asyncpg.Pool, imported: Result) -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(service="catalog", admin_token=TOKEN)
    service = bootstrap.build(settings, CatalogSettings(public_base_url=BASE_URL, jobs=False))
    service.pool = catalog_pool
    app = Starlette(routes=service.routes(service))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://catalog"
    ) as http:
        yield http


async def test_operators_ids_and_tiktok_shop_listings_are_imported_as_stored_ids(
    imported: Result, catalog_pool: asyncpg.Pool
) -> None:
    assert imported.exit_code == 0, imported.output
    assert "imported 2 producers, 5 products, 3 listings" in imported.stdout
    async with catalog_pool.acquire() as conn:
        producers = await conn.fetch("SELECT producer_id FROM producers ORDER BY 1")
        products = await conn.fetch("SELECT sku, producer_id FROM products ORDER BY 1")
        listings = await conn.fetch("SELECT * FROM channel_listings ORDER BY channel_sku")
    assert [r["producer_id"] for r in producers] == ["0042", "htx-mật-ong"]  # trimmed, NFC
    assert [tuple(r) for r in products] == [
        ("0042/TRA-1", "0042"),
        ("ABC", "0042"),
        ("Mật ong 500g", "htx-mật-ong"),
        ("abc", "0042"),
        ("hg.honey_500", "htx-mật-ong"),
    ]
    assert [tuple(r) for r in listings] == [
        ("tiktok-shop", SHOP, "TT mật ong 500", "hg.honey_500"),
        ("tiktok-shop", SHOP, "TT-RUNG-500", "Mật ong 500g"),
        ("tiktok-shop", SHOP, "TT-abc", "abc"),
    ]


BAD_PRODUCTS = f"""sku,producer_id,name,price,currency,weight_g,stock
ok-1,0042,Fine,1000,VND,100,1
,0042,No SKU,1000,VND,100,1
{"x" * 256},0042,Too long,1000,VND,100,1
"bad\tsku",0042,Tab inside,1000,VND,100,1
"""
BAD_LISTINGS = """channel,account,channel_sku,sku
zalo,shop,Z-1,abc
"""


async def test_ids_that_cannot_be_ids_are_refused_by_line_and_field_and_nothing_is_imported(
    imported: Result, catalog_db_url: str, catalog_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    result = await ovop(
        catalog_db_url,
        "--products", str(write(tmp_path, "products.csv", BAD_PRODUCTS)),
        "--listings", str(write(tmp_path, "listings.csv", BAD_LISTINGS)),
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:4] == [
        "products.csv:3: sku: must not be empty",
        "products.csv:4: sku: is 256 characters long, at most 255 are allowed",
        "products.csv:5: sku: contains the invisible character U+0009 at position 4",
        "listings.csv:2: channel: unknown platform 'zalo': one of shopify, woocommerce, shopee, "
        "lazada, tiktok-shop, tiki, manual",
    ]
    async with catalog_pool.acquire() as conn:
        assert not await conn.fetchval("SELECT count(*) FROM products WHERE sku = 'ok-1'")


def placed(order_id: str, lines: list[OrderLine]) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        channel="tiktok-shop",
        account=nfd(SHOP),  # the event carries the account as stored
        external_id=order_id,
        order_ref=f"#{order_id}",
        currency="VND",
        total=1,
        lines=lines,
        placed_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


async def test_an_order_for_those_ids_reserves_their_stock_exactly(
    imported: Result, catalog_pool: asyncpg.Pool
) -> None:
    event = placed(
        "tt-1",
        [
            OrderLine(channel_sku="TT mật ong 500", name="Mật ong", quantity=2, unit_price=1),
            OrderLine(sku="0042/TRA-1", name="Trà", quantity=1, unit_price=1),
            OrderLine(channel_sku="TT-abc", name="lower", quantity=2, unit_price=1),
        ],
    )
    await bootstrap.message_bus(lambda: catalog_pool).handle(ReserveStock(event))
    [reserved] = [
        StockReserved.model_validate(payload)
        for event_type, payload in await outbox(catalog_pool)
        if event_type == "StockReserved" and payload["order_id"] == event.order_id
    ]

    assert isinstance(reserved, StockReserved)
    assert {a.producer_id: sorted(ln.sku for ln in a.lines) for a in reserved.allocations} == {
        "0042": ["0042/TRA-1", "abc"],
        "htx-mật-ong": ["hg.honey_500"],
    }
    # Each reserved SKU names the channel SKUs it was reserved for: the platform cancels by those.
    assert {ln.sku: ln.channel_skus for a in reserved.allocations for ln in a.lines} == {
        "0042/TRA-1": [],
        "abc": ["TT-abc"],
        "hg.honey_500": ["TT mật ong 500"],
    }
    async with catalog_pool.acquire() as conn:
        figures = [await stock_level(conn, sku) for sku in ("hg.honey_500", "abc", "ABC")]
    assert figures == [
        StockLevel(on_hand=10, reserved=2),
        StockLevel(on_hand=2, reserved=2),
        StockLevel(on_hand=1, reserved=0),  # "ABC" is another product than "abc"
    ]


@pytest.mark.parametrize(
    ("sku", "path", "name"),
    [
        ("Mật ong 500g", "M%E1%BA%ADt%20ong%20500g", "Mật ong rừng 500 g"),
        ("hg.honey_500", "hg.honey_500", "Mật ong bạc hà 500 g"),
        ("0042/TRA-1", "0042%2FTRA-1", "Trà shan"),
        ("ABC", "ABC", "Upper case"),
        ("abc", "abc", "Lower case"),
    ],
)
async def test_the_story_page_of_each_id_is_at_its_percent_encoded_url(
    client: httpx.AsyncClient, sku: str, path: str, name: str
) -> None:
    page = await client.get(f"/p/{path}?lang=vi")
    assert page.status_code == 200, page.text
    assert name in page.text
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page.text, re.S)
    assert found is not None
    data = json.loads(found.group(1))
    assert (data["sku"], data["url"]) == (sku, f"{BASE_URL}/p/{path}")

    qr = await client.get(f"/p/{path}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"


async def test_a_decomposed_url_finds_the_stored_id_and_an_impossible_one_is_404(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/p/" + quote(nfd("Mật ong 500g")))).status_code == 200
    assert (await client.get("/p/a%09bc")).status_code == 404
    assert (await client.get("/p/0042")).status_code == 404  # a producer, not a product
    assert (await client.get("/p/0042/TRA-1/qr.svg")).status_code == 404  # `/` not encoded


async def test_the_admin_api_takes_the_same_ids_one_encoded_segment_each(
    client: httpx.AsyncClient,
) -> None:
    product = await client.get("/admin/products/0042%2FTRA-1", headers=AUTH)
    assert product.status_code == 200 and product.json()["producer_id"] == "0042"
    producer = await client.get("/admin/producers/htx-m%E1%BA%ADt-ong", headers=AUTH)
    assert producer.status_code == 200 and producer.json()["name"] == "HTX Mật ong Mèo Vạc"
    stock = await client.get("/admin/stock/0042%2FTRA-1", headers=AUTH)
    assert stock.status_code == 200 and stock.json()["sku"] == "0042/TRA-1"

    listing = {"channel": "TikTok", "account": "a/b shop", "channel_sku": "x/y", "sku": "ABC"}
    created = await client.post("/admin/listings", json=listing, headers=AUTH)
    assert created.status_code == 201 and created.json()["channel"] == "tiktok-shop"
    gone = await client.delete("/admin/listings/tiktok/a%2Fb%20shop/x%2Fy", headers=AUTH)
    assert gone.status_code == 204
    again = await client.delete("/admin/listings/tiktok-shop/a%2Fb%20shop/x%2Fy", headers=AUTH)
    assert again.status_code == 404

    tab = await client.get("/admin/products/a%09b", headers=AUTH)
    assert tab.status_code == 404
    assert tab.json()["errors"] == [
        {"field": "sku", "message": "contains the invisible character U+0009 at position 2"}
    ]
