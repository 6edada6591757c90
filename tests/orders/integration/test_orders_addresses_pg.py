"""A Vietnamese address that cannot be resolved on the real database: the order is held with the
reason, the operator's correction is resolved like a platform's address, and the order goes on
to the catalog."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from services.orders.domain.model import order_id_for
from services.orders.entrypoints.cli import orders as orders_cli
from services.orders.simulator import build_shopify_order, shopify_webhook_request
from tests.orders.integration.conftest import auth

pytestmark = pytest.mark.integration

SHOP = "lang-gom-bat-trang.myshopify.com"


async def cli(*args: str):
    """The operator CLI (it runs its own event loop, so in a thread)."""
    return await asyncio.to_thread(CliRunner().invoke, orders_cli, list(args))


async def test_a_split_old_ward_holds_the_order_until_the_operator_gives_the_ward(
    orders, monkeypatch
):
    await orders.add_account("shopify", SHOP, "sec")
    # Shopify has no Vietnamese zones: the buyer's old three-level locality is all in `city`.
    payload = build_shopify_order(
        order_number=41,
        sku="HG-HONEY-500",
        quantity=1,
        unit_price_vnd=450000,
        buyer={"city": "Phường Đội Cấn, Quận Ba Đình, Hà Nội", "province": ""},
    )
    body, headers = shopify_webhook_request(payload, "sec", shop_domain=SHOP)
    await orders.push(f"/webhooks/shopify/{SHOP}", body, headers)
    order_id = order_id_for("shopify", SHOP, str(payload["id"]))

    held = await orders.order(order_id)
    assert held["status"] == "ON_HOLD"
    assert held["hold_reason"] == (
        'address_ambiguous: old ward "Phường Đội Cấn, Quận Ba Đình" split into '
        '"Phường Ba Đình", "Phường Ngọc Hà"'
    )
    assert held["shipping_address"]["province"] == "Hà Nội"
    assert await orders.outbox(order_id) == []  # nothing asked of the catalog yet

    monkeypatch.setenv("ORDERS_DATABASE_URL", orders.service.settings.own_database_url)
    wrong = await cli("resolve", order_id, "--ward", "Phường Xyz")
    assert wrong.exit_code == 0 and "still_on_hold" in wrong.output, wrong.output
    still = await orders.order(order_id)
    assert still["hold_reason"] == 'address_unknown: ward "Phường Xyz" not found in Hà Nội'
    assert await orders.outbox(order_id) == []

    fixed = await cli("resolve", order_id, "--ward", "Phuong Ngoc Ha")
    assert fixed.exit_code == 0 and "PENDING_STOCK" in fixed.output, fixed.output
    order = await orders.order(order_id)
    assert (order["status"], order["hold_reason"]) == ("PENDING_STOCK", None)
    address = order["shipping_address"]
    assert (address["province"], address["district"], address["ward"]) == (
        "Hà Nội",
        None,
        "Phường Ngọc Hà",
    )
    assert address["admin_codes"]["scheme"] == "vn-nso-2025"
    assert address["city"] == "Phường Đội Cấn, Quận Ba Đình, Hà Nội"  # as the buyer wrote it
    [(event, placed)] = await orders.outbox(order_id)
    assert event == "OrderPlaced"
    sent = placed["shipping_address"]
    assert (sent["province"], sent["district"], sent["ward"]) == ("Hà Nội", None, "Phường Ngọc Hà")


async def test_the_api_resolves_a_held_order_and_refuses_a_bad_fix_changing_nothing(orders):
    await orders.add_account("shopify", SHOP, "sec")
    payload = build_shopify_order(
        order_number=42,
        sku="HG-HONEY-500",
        quantity=1,
        unit_price_vnd=450000,
        buyer={"city": "Phường Đội Cấn, Quận Ba Đình, Hà Nội", "province": ""},
    )
    payload["total_price"] = str(int(payload["total_price"]) + 1000)  # misstated as well
    body, headers = shopify_webhook_request(payload, "sec", shop_domain=SHOP)
    await orders.push(f"/webhooks/shopify/{SHOP}", body, headers)
    order_id = order_id_for("shopify", SHOP, str(payload["id"]))
    url = f"/orders/{order_id}/resolve"

    for bad, error in [
        ({"address": {"country": "TH"}}, "invalid_request"),
        ({"skus": {"X": "bad\x00sku"}}, "invalid_request"),
        ({"accept_amounts": "yes"}, "invalid_request"),
        ({"address": {"phone": "not a phone"}}, "invalid_request"),
        ([1, 2], "invalid_request"),
    ]:
        resp = await orders.http.post(url, json=bad, headers=auth())
        assert (resp.status_code, resp.json()["error"]) == (422, error), (bad, resp.text)
    assert (await orders.order(order_id))["hold_reason"].startswith("address_ambiguous")
    assert await orders.outbox(order_id) == []

    resp = await orders.http.post(url, json={"address": {"ward": "Phường Ngọc Hà"}}, headers=auth())
    assert resp.status_code == 200 and resp.json()["outcome"] == "still_on_hold", resp.text
    assert resp.json()["hold_reason"].startswith("amounts_inconsistent: total")

    resp = await orders.http.post(url, json={"accept_amounts": True}, headers=auth())
    assert resp.json() | {"hold_reason": None} == {
        "order_id": order_id,
        "outcome": "released",
        "status": "PENDING_STOCK",
        "hold_reason": None,
    }, resp.text
    [(event, placed)] = await orders.outbox(order_id)
    assert event == "OrderPlaced" and placed["shipping_address"]["ward"] == "Phường Ngọc Hà"
    assert placed["total"] == int(payload["total_price"])  # the stated total, as charged

    again = await orders.http.post(url, json={"accept_amounts": True}, headers=auth())
    assert (again.status_code, again.json()["error"]) == (409, "not_on_hold")
    missing = await orders.http.post("/orders/nope/resolve", json={}, headers=auth())
    assert missing.status_code == 404
