"""The orders API (manual orders, CSV import, listing, cancellation), stock sync back to the
channels through their API clients, and fuzzed webhooks that must never get a 500."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.orders import handlers
from services.orders.jobs import push_stock_once
from services.orders.webhook_queue import Applied
from shared.contracts.envelope import Envelope
from shared.contracts.events import ChannelListingRef, StockLevelChanged
from tests.orders import platform_signing as signing
from tests.orders import samples
from tests.orders.integration.conftest import Orders, auth

pytestmark = pytest.mark.integration

CSV = (Path(__file__).parent.parent / "orders_import.csv").read_text()


async def test_admin_endpoints_need_the_bearer_token(orders: Orders):
    for method, path in [
        ("GET", "/orders"),
        ("POST", "/orders"),
        ("GET", "/orders/x"),
        ("POST", "/orders/import"),
        ("POST", "/orders/x/cancel"),
        ("POST", "/orders/x/resolve"),
    ]:
        resp = await orders.http.request(method, path, headers={"authorization": "Bearer no"})
        assert resp.status_code == 401, (method, path)


async def test_csv_import_creates_each_readable_order_and_reports_the_others(orders: Orders):
    resp = await orders.http.post(
        "/orders/import", content=CSV.encode(), headers=auth() | {"content-type": "text/csv"}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [(o["order_ref"], o["outcome"]) for o in body["orders"]] == [
        ("Z-100", "created"),
        ("Z-102", "created"),
    ]
    [error] = body["errors"]
    assert error["order_ref"] == "Z-101" and error["rows"] == [4]
    assert "quantity" in error["error"]

    listed = (await orders.http.get("/orders?channel=manual&account=zalo", headers=auth())).json()
    [zalo] = listed["orders"]
    assert [(ln["sku"], ln["quantity"]) for ln in zalo["lines"]] == [
        ("HG-HONEY-500", 2),
        ("TN-GREENTEA-200", 1),
    ]
    assert zalo["total"] == 2 * 450000 + 120000 and zalo["buyer"]["phone"] == "+84912345678"
    assert zalo["placed_at"] == "2025-08-01T01:00:00Z"
    since = (await orders.http.get("/orders?since=2025-08-02T00:00:00Z", headers=auth())).json()
    assert [o["external_id"] for o in since["orders"]] == ["Z-102"]
    again = await orders.http.post("/orders/import", content=CSV.encode(), headers=auth())
    assert {o["outcome"] for o in again.json()["orders"]} == {"unchanged"}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{", 400, "malformed_json"),
        (json.dumps({"lines": []}).encode(), 422, "invalid_order"),
        (
            json.dumps({"lines": [{"sku": "A", "quantity": 2**70, "unit_price": 1}]}).encode(),
            422,
            "invalid_order",
        ),
        (
            json.dumps({"lines": [{"sku": "A", "quantity": 1, "unit_price": "1e9"}]}).encode(),
            422,
            "invalid_order",
        ),
        (json.dumps([1, 2]).encode(), 422, "invalid_order"),
    ],
)
async def test_a_bad_manual_order_gets_a_precise_4xx(orders: Orders, body, status, error):
    resp = await orders.http.post("/orders", content=body, headers=auth())
    assert (resp.status_code, resp.json()["error"]) == (status, error)


async def test_bad_query_parameters_are_400_and_unknown_orders_404(orders: Orders):
    assert (await orders.http.get("/orders?status=LOST", headers=auth())).status_code == 400
    assert (await orders.http.get("/orders?since=yesterday", headers=auth())).status_code == 400
    assert (await orders.http.get("/orders?limit=0", headers=auth())).status_code == 400
    assert (await orders.http.get("/orders/nope", headers=auth())).status_code == 404
    resp = await orders.http.post("/orders/nope/cancel", json={}, headers=auth())
    assert resp.status_code == 404


async def test_stock_levels_are_pushed_to_every_listing_latest_version_only(orders: Orders):
    fakes = orders.fakes
    for platform, account in [
        ("shopee", "sp"),
        ("lazada", "lz"),
        ("tiktok-shop", "tt"),
        ("tiki", "tk"),
        ("woocommerce", "wc"),
    ]:
        secret = fakes.secret(platform) if platform != "woocommerce" else "webhook-secret"
        await orders.add_account(platform, account, secret, **fakes.settings(platform))
    await orders.add_account("shopify", "demo-shop", "shop-secret")  # webhooks only: no token
    await orders.add_account("shopify", "api-shop", "s", **fakes.settings("shopify"))
    fakes.shopify.products["SH-HONEY"] = "gid://shopify/InventoryItem/55"
    fakes.shopee.products["SP-HONEY"] = "1001"
    fakes.tiktok.products["TT-HONEY"] = "7001"
    fakes.woo.products["WC-HONEY"] = "93"
    listings = [
        ChannelListingRef(channel="shopee", account="sp", channel_sku="SP-HONEY"),
        ChannelListingRef(channel="lazada", account="lz", channel_sku="LZ-HONEY"),
        ChannelListingRef(channel="tiktok-shop", account="tt", channel_sku="TT-HONEY"),
        ChannelListingRef(channel="tiki", account="tk", channel_sku="TK-HONEY"),
        ChannelListingRef(channel="woocommerce", account="wc", channel_sku="WC-HONEY"),
        ChannelListingRef(channel="shopify", account="demo-shop", channel_sku="SHOP-HONEY"),
        ChannelListingRef(channel="shopify", account="api-shop", channel_sku="SH-HONEY"),
    ]
    # A burst, arriving out of order: version 7 is the latest, 6 comes after it and is stale.
    for version, available in [(5, 40), (7, 38), (6, 39)]:
        event = StockLevelChanged(
            sku="HG-HONEY-500",
            producer_id="P",
            on_hand=50,
            reserved=50 - available,
            available=available,
            version=version,
            listings=listings,
        )
        env = Envelope.wrap(event, producer="catalog", correlation_id="stock")
        async with orders.pool.acquire() as conn, conn.transaction():
            await handlers.on_stock_level_changed(conn, env, event)
    fakes.lazada.fail_next = 1  # a transient failure is retried within the pass
    async with httpx.AsyncClient() as http:
        assert await push_stock_once(orders.pool, http) == 7
        assert await push_stock_once(orders.pool, http) == 0  # nothing left: coalesced
    for fake, sku in [
        (fakes.shopee, "SP-HONEY"),
        (fakes.lazada, "LZ-HONEY"),
        (fakes.tiktok, "TT-HONEY"),
        (fakes.tiki, "TK-HONEY"),
        (fakes.woo, "WC-HONEY"),
    ]:
        assert fake.stock_calls == [(sku, 38)], sku
        assert fake.refused_signatures == 0
    async with orders.pool.acquire() as conn:
        shopify = await conn.fetchrow(
            "SELECT * FROM listing_stock WHERE channel = 'shopify' AND account = 'demo-shop'"
        )
    # A webhook-only account is never called: marked done with the reason, not retried.
    assert shopify["pushed_version"] == 7 and "no access_token" in shopify["last_error"]


# --- fuzzing the webhook endpoints: whatever arrives, never a 500 -------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
# Payloads shaped like each platform's, with any field replaced by any JSON value.
shaped = st.sampled_from(
    [
        ("woocommerce", samples.woo_order()),
        ("shopify", None),
        ("shopee", samples.shopee_push()),
        ("lazada", samples.lazada_push()),
        ("tiktok-shop", samples.tiktok_push()),
    ]
).flatmap(
    lambda pair: st.tuples(
        st.just(pair[0]),
        st.just(pair[1])
        if pair[1] is None
        else st.fixed_dictionaries(
            {k: st.one_of(st.just(v), json_values) for k, v in pair[1].items()}
        ),
    )
)


def _shopify_payload() -> dict:
    from services.orders.simulator import build_shopify_order

    return build_shopify_order(order_number=3, sku="S", quantity=1, unit_price_vnd=1000)


def _sign(platform: str, body: bytes) -> dict[str, str]:
    if platform == "shopify":
        return {"x-shopify-hmac-sha256": signing.shopify_webhook_hmac("fuzz", body)}
    if platform == "woocommerce":
        return {"x-wc-webhook-signature": signing.woocommerce_webhook_signature("fuzz", body)}
    if platform == "shopee":
        return {"authorization": signing.shopee_push_authorization("fuzz", "https://cb", body)}
    if platform == "lazada":
        return {"authorization": signing.lazada_push_authorization("112233", "fuzz", body)}
    return {"authorization": signing.tiktok_webhook_authorization("112233", "fuzz", body)}


async def test_fuzzed_signed_webhooks_get_a_2xx_or_a_precise_4xx_never_a_500(orders: Orders):
    for platform in ("shopify", "woocommerce", "shopee", "lazada", "tiktok-shop"):
        await orders.add_account(
            platform, "fz", "fuzz", callback_url="https://cb", app_key="112233"
        )
    seen: list[tuple[str, bytes]] = []

    @settings(
        max_examples=250, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        case=shaped,
        shopify=st.fixed_dictionaries(
            {k: st.one_of(st.just(v), json_values) for k, v in _shopify_payload().items()}
        ),
        raw=st.binary(max_size=200),
    )
    def collect(case, shopify, raw):
        platform, payload = case
        payload = shopify if payload is None else payload
        seen.append((platform, json.dumps(payload).encode()))
        seen.append((platform, raw))

    collect()  # hypothesis generates the bodies; the service is then asked about each
    statuses: dict[int, int] = {}
    for platform, body in seen:
        resp = await orders.http.post(
            f"/webhooks/{platform}/fz", content=body, headers=_sign(platform, body)
        )
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        assert resp.status_code in (200, 400, 422), (platform, body[:300], resp.text)
        if resp.status_code != 200:
            assert resp.json()["error"] in ("malformed_json", "invalid_order")
    assert statuses.get(200) and statuses.get(422) and statuses.get(400)
    # The queued full pushes: each becomes an order, is ignored, or is kept with its reason as a
    # dead-letter entry; none fails (which would mean a crash in the apply job).
    applied: dict[int, Applied] = {}
    while batch := await orders.apply_queue():
        applied |= batch
    outcomes = {a.outcome for a in applied.values()}
    assert "failed" not in outcomes and "rejected" in outcomes and "created" in outcomes
    async with orders.pool.acquire() as conn:
        left = await conn.fetch("SELECT id, rejected_reason FROM webhook_queue")
    rejected = {a for a, r in applied.items() if r.outcome == "rejected"}
    assert {r["id"] for r in left} == rejected
    assert all(r["rejected_reason"].startswith("invalid_order: ") for r in left)
