"""A Shopee, a Lazada, a TikTok Shop and a Tiki order each travel the whole platform: a signed thin
push (Tiki: its event queue) reaches orders, which fetches the detail from a fake platform that
checks our signing as the platform documents it; catalog reserves the stock over Kafka, logistics
schedules the pickup, notifications texts the producer, and the new stock figure goes back to the
channel through its signed API."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.orders.adapters.postgres import add_channel_account
from services.orders.domain.model import order_id_for
from tests.e2e.test_journey import order_status, sms_for
from tests.orders import samples
from tests.orders.fakes import APP_KEY, Fake, FakePlatforms
from tests.orders.platform_signing import (
    lazada_push_authorization,
    shopee_push_authorization,
    tiktok_webhook_authorization,
)
from tests.shared.integration.harness import eventually

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

VIETNAM = timedelta(hours=7)


@pytest.fixture(scope="module")
def service_env() -> dict[str, str]:
    return {"ORDERS_TIKI_POLL_S": "0.5"}  # Tiki has no push: poll its queue often


@pytest.fixture(scope="module")
async def fakes() -> AsyncIterator[FakePlatforms]:
    async with FakePlatforms() as fakes:
        yield fakes


@dataclass(frozen=True)
class Sale:
    """One marketplace order of a demo product, sold under the channel's own SKU."""

    channel: str
    account: str
    external_id: str
    channel_sku: str
    sku: str  # ours, in the demo catalogue
    quantity: int
    producer_phone: str  # the demo producer of `sku`
    province: str  # the buyer's

    @property
    def order_id(self) -> str:
        return order_id_for(self.channel, self.account, self.external_id)


async def test_a_shopee_order_travels_from_its_push_to_the_producer_sms(platform, fakes):
    sale = Sale(
        channel="shopee",
        account="nuocmam-phuquoc",
        external_id="2412070ABCD1EF",
        channel_sku="SPE-NUOCMAM-40N-500",
        sku="PQ-FISHSAUCE-500",
        quantity=2,
        producer_phone="+84912000103",
        province="Cần Thơ",
    )
    now = int(time.time())
    detail = samples.shopee_detail(
        sale.external_id, sku=sale.channel_sku, quantity=2, price=120000, update_time=now
    )
    order = detail["response"]["order_list"][0]
    order["create_time"] = now - 60
    order["item_list"][0] |= {"item_name": "Nước mắm Phú Quốc 40 độ đạm", "item_id": 23047719}
    order["recipient_address"] = {
        "name": "Trần Thị Mai",
        "phone": "84903456789",
        "town": "",
        "district": "Phường Ninh Kiều",  # Vietnam: district holds the ward
        "city": "",
        "state": "Cần Thơ",
        "region": "VN",
        "zipcode": "900000",
        "full_address": "45 đường Trần Hưng Đạo, Phường Ninh Kiều, Cần Thơ",
    }
    fakes.shopee.orders[sale.external_id] = detail
    fakes.shopee.products[sale.channel_sku] = "23047719"
    callback = platform.url("orders", f"/webhooks/shopee/{sale.account}")
    await _open_account(platform, fakes, sale, callback_url=callback)

    push = samples.shopee_push(sale.external_id, update_time=now)
    body = _json(push)
    headers = {"authorization": shopee_push_authorization(fakes.shopee.secret, callback, body)}
    await _deliver(platform, sale, body, headers)
    await _journey(platform, fakes.shopee, sale)


async def test_a_lazada_order_travels_from_its_push_to_the_producer_sms(platform, fakes):
    sale = Sale(
        channel="lazada",
        account="tra-thainguyen",
        external_id="482716359027481",
        channel_sku="LZD-TRA-TANCUONG-200",
        sku="TN-GREENTEA-200",
        quantity=3,
        producer_phone="+84912000104",
        province="Nghệ An",
    )
    now = datetime.now(UTC)
    detail = samples.lazada_detail(
        int(sale.external_id),
        sku=sale.channel_sku,
        units=3,
        price="180000.00",
        updated_at=_lazada_time(now),
    )
    detail["order"]["data"] |= {
        "created_at": _lazada_time(now - timedelta(minutes=2)),
        "customer_first_name": "Văn Hùng",
        "customer_last_name": "Võ",
        "address_shipping": {
            "first_name": "Hùng",
            "last_name": "Võ Văn",
            "phone": "84912987654",
            "address1": "78 đường Nguyễn Văn Cừ",
            "address2": "",
            "address3": "Nghệ An",
            "address4": "",
            "address5": "Phường Trường Vinh",
            "city": "Vinh",
            "post_code": "460000",
            "country": "Vietnam",
        },
    }
    for n, item in enumerate(detail["items"]["data"]):
        item |= {"order_item_id": 6120004471 + n, "name": "Trà xanh Tân Cương 200 g"}
    fakes.lazada.orders[sale.external_id] = detail
    await _open_account(platform, fakes, sale)

    push = samples.lazada_push(
        int(sale.external_id), line=6120004471, update_time=int(now.timestamp())
    )
    body = _json(push)
    headers = {"authorization": lazada_push_authorization(APP_KEY, fakes.lazada.secret, body)}
    await _deliver(platform, sale, body, headers)
    await _journey(platform, fakes.lazada, sale)


async def test_a_tiktok_shop_order_travels_from_its_webhook_to_the_producer_sms(platform, fakes):
    sale = Sale(
        channel="tiktok-shop",
        account="caphe-daklak",
        external_id="578931204817263905",
        channel_sku="TTS-CAPHE-ROBUSTA-500",
        sku="DL-COFFEE-500",
        quantity=2,
        producer_phone="+84912000113",
        province="Hà Nội",
    )
    now = int(time.time())
    detail = samples.tiktok_detail(
        sale.external_id, sku=sale.channel_sku, units=2, price=220000, update_time=now
    )
    order = detail["data"]["orders"][0]
    order["create_time"] = now - 60
    for item in order["line_items"]:
        item |= {"product_name": "Cà phê Robusta Buôn Ma Thuột 500 g", "sku_id": "1731190528"}
    order["recipient_address"] = {
        "name": "Đặng Thu Hà",
        "phone_number": "(+84)936112233",
        "address_line1": "số 9 ngõ 56 phố Trần Thái Tông",
        "address_line2": "",
        "postal_code": "",
        "region_code": "VN",
        "district_info": [
            {"address_level": "L0", "address_name": "Vietnam"},
            {"address_level": "L1", "address_name": "Hà Nội"},
            {"address_level": "L2", "address_name": "Phường Cầu Giấy"},
        ],
    }
    fakes.tiktok.orders[sale.external_id] = detail
    fakes.tiktok.products[sale.channel_sku] = "1731190528"
    await _open_account(platform, fakes, sale)

    push = samples.tiktok_push(sale.external_id, notification="7412095528143980117")
    push["timestamp"] = push["data"]["update_time"] = now
    body = _json(push)
    headers = {"authorization": tiktok_webhook_authorization(APP_KEY, fakes.tiktok.secret, body)}
    await _deliver(platform, sale, body, headers)
    await _journey(platform, fakes.tiktok, sale)


async def test_a_tiki_order_travels_from_its_event_queue_to_the_producer_sms(platform, fakes):
    sale = Sale(
        channel="tiki",
        account="mexung-hue",
        external_id="519384726",
        channel_sku="TIKI-MEXUNG-400",
        sku="HU-MEXUNG-400",
        quantity=2,
        producer_phone="+84912000117",
        province="Đắk Lắk",
    )
    now = datetime.now(UTC) + VIETNAM  # Tiki's dates are Vietnam time without a zone
    detail = samples.tiki_order(
        sale.external_id,
        sku=sale.channel_sku,
        qty=2,
        price=65000,
        updated_at=f"{now:%Y-%m-%d %H:%M:%S}",
    )
    detail |= {"id": 208816354, "created_at": f"{now - timedelta(minutes=2):%Y-%m-%d %H:%M:%S}"}
    detail["customer"] = {"full_name": "Hoàng Minh Tâm", "email": None}
    detail["shipping"]["address"] = {
        "full_name": "Hoàng Minh Tâm",
        "street": "120 đường Lê Duẩn",
        "ward": "Phường Buôn Ma Thuột",
        "district": None,
        "region": "Đắk Lắk",
        "country": "VN",
        "phone": "0978123456",
    }
    detail["items"][0]["product"] |= {"name": "Mè xửng Huế 400 g", "sku": "2270845519303"}
    fakes.tiki.orders[sale.external_id] = detail
    await _open_account(platform, fakes, sale)

    fakes.tiki_queue.append(
        {
            "id": "5f0e9c1d-tiki-519384726",
            "type": "ORDER_CREATED_SUCCESSFULLY",
            "created_at": f"{now:%Y-%m-%d %H:%M:%S}",
            "payload": {"order_code": sale.external_id},
        }
    )
    await eventually(lambda: _acked(fakes), timeout=30)
    await _journey(platform, fakes.tiki, sale)


async def _open_account(platform, fakes: FakePlatforms, sale: Sale, **settings: str) -> None:
    """The channel account, its API pointed at the fake, and the listing of its SKU in catalog."""
    conn = await platform.db("orders")
    try:
        secret = fakes.secret(sale.channel)
        await add_channel_account(
            conn, sale.channel, sale.account, secret, fakes.settings(sale.channel) | settings
        )
    finally:
        await conn.close()
    listing = {
        "channel": sale.channel,
        "account": sale.account,
        "channel_sku": sale.channel_sku,
        "sku": sale.sku,
    }
    async with httpx.AsyncClient() as client:
        resp = await client.post(
            platform.url("catalog", "/admin/listings"), json=listing, headers=_admin(platform)
        )
    assert resp.status_code == 201, resp.text


async def _deliver(platform, sale: Sale, body: bytes, headers: dict[str, str]) -> None:
    url = platform.url("orders", f"/webhooks/{sale.channel}/{sale.account}")
    headers |= {"content-type": "application/json"}
    async with httpx.AsyncClient() as client:
        resp = await client.post(url, content=body, headers=headers)
    assert (resp.status_code, resp.json()["outcome"]) == (200, "pending_fetch"), resp.text


async def _journey(platform, fake: Fake, sale: Sale) -> None:
    """Read from the platform's detail, reserved in catalog, scheduled for pickup, the producer
    texted once, and the channel told the new stock figure; every call to the platform signed as
    it documents."""

    async def producer_texted() -> bool:
        return len(await sms_for(platform, sale.order_id)) > 0

    await eventually(producer_texted, timeout=60)
    await eventually(lambda: _status_is(platform, sale.order_id, "PICKUP_SCHEDULED"), timeout=30)
    order = await _admin_get(platform, "orders", f"/orders/{sale.order_id}")
    assert order["external_id"] == sale.external_id and order["payment"]["cod"] is True
    assert [(ln["channel_sku"], ln["quantity"]) for ln in order["lines"]] == [
        (sale.channel_sku, sale.quantity)
    ]
    # Catalog mapped the channel's SKU to ours: the producer's unit holds our SKU.
    units = order["fulfilment_units"]
    assert [(ln["sku"], ln["quantity"]) for u in units for ln in u["lines"]] == [
        (sale.sku, sale.quantity)
    ]
    assert order["shipping_address"]["province"] == sale.province
    [sms] = await sms_for(platform, sale.order_id)
    assert sms["recipient"] == sale.producer_phone
    assert sms["encoding"] == "GSM-7" and sms["segments"] == 1

    async def producer_sms_sent() -> bool:  # by the dispatcher, after the consumer's commit
        return [s["status"] for s in await sms_for(platform, sale.order_id)] == ["ACCEPTED"]

    await eventually(producer_sms_sent, timeout=10)

    stock = await _admin_get(platform, "catalog", f"/admin/stock/{sale.sku}")
    assert [
        row["delta_reserved"] for row in stock["ledger"] if row["order_id"] == sale.order_id
    ] == [sale.quantity]
    conn = await platform.db("logistics")
    try:
        shipments = await conn.fetch(
            "SELECT run_id FROM shipments WHERE order_id = $1", sale.order_id
        )
    finally:
        await conn.close()
    assert len(shipments) == 1 and shipments[0]["run_id"].startswith("HUB-")

    async def channel_told() -> bool:
        return fake.stock.get(sale.channel_sku) == stock["available"]

    await eventually(channel_told, timeout=30)
    assert fake.refused_signatures == 0


async def _status_is(platform, order_id: str, status: str) -> bool:
    return await order_status(platform, order_id) == status


async def _admin_get(platform, service: str, path: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        resp = await client.get(platform.url(service, path), headers=_admin(platform))
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _acked(fakes: FakePlatforms) -> bool:
    return not fakes.tiki_queue and bool(fakes.tiki_acked)


def _admin(platform) -> dict[str, str]:
    return {"authorization": f"Bearer {platform.env['ADMIN_TOKEN']}"}


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def _lazada_time(moment: datetime) -> str:
    return f"{moment + VIETNAM:%Y-%m-%d %H:%M:%S} +0700"
