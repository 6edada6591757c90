"""The webhook queue on the real database: a full push is committed before its 200, then applied
by the job; what cannot be read stays as a dead-letter entry; failures are retried, bounded."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner
from prometheus_client import REGISTRY

from services.orders import webhook_queue
from services.orders.adapters import webhook_queue as queue
from services.orders.adapters.intake import NewOrderWriter
from services.orders.domain.model import order_id_for
from services.orders.entrypoints.cli import orders as orders_cli
from services.orders.simulator import build_shopify_order, shopify_webhook_request
from tests.orders.integration.conftest import Orders

SHOP = "queue-shop"
PATH = f"/webhooks/shopify/{SHOP}"


def shopify(number: int, **changes) -> tuple[bytes, dict[str, str]]:
    payload = build_shopify_order(
        order_number=number, sku="SHOP-HG-HONEY-500", quantity=1, unit_price_vnd=450000
    )
    return shopify_webhook_request(payload | changes, "sec", shop_domain=SHOP)


async def counts(orders: Orders) -> dict[str, int]:
    async with orders.pool.acquire() as conn:
        row = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM webhook_queue) AS queued,
                      (SELECT count(*) FROM orders) AS orders,
                      (SELECT count(*) FROM webhook_deliveries) AS deliveries,
                      (SELECT count(*) FROM outbox) AS events"""
        )
    return dict(row)


def dead_lettered(reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "ovop_orders_webhooks_dead_lettered_total", {"platform": "shopify", "reason": reason}
    )
    return value or 0.0


async def test_pushes_are_committed_before_their_200_and_one_pass_makes_them_orders(
    orders: Orders,
):
    await orders.add_account("shopify", SHOP, "sec")
    pushes = [shopify(n) for n in range(1, 11)]
    answers = await asyncio.gather(
        *(orders.http.post(PATH, content=body, headers=headers) for body, headers in pushes)
    )
    assert [(a.status_code, a.json()["outcome"]) for a in answers] == [(200, "queued")] * 10
    # The answer names the order the push will become (its id comes from the platform's id).
    assert {a.json()["order_id"] for a in answers} == {
        order_id_for("shopify", SHOP, str(json.loads(body)["id"])) for body, _ in pushes
    }
    assert await counts(orders) == {"queued": 10, "orders": 0, "deliveries": 0, "events": 0}
    async with orders.pool.acquire() as conn:
        stored = await conn.fetch("SELECT headers, raw_body FROM webhook_queue ORDER BY id")
    assert {bytes(r["raw_body"]) for r in stored} == {body for body, _ in pushes}
    assert all(r["headers"]["x-shopify-topic"] == "orders/create" for r in stored)

    applied = await orders.apply_queue()
    assert [a.outcome for a in applied.values()] == ["created"] * 10
    assert await counts(orders) == {"queued": 0, "orders": 10, "deliveries": 10, "events": 10}
    assert await orders.apply_queue() == {}


async def test_a_push_that_is_not_a_readable_order_is_kept_with_its_reason_and_can_be_requeued(
    orders: Orders, monkeypatch
):
    monkeypatch.setenv("ORDERS_DATABASE_URL", orders.service.settings.own_database_url)
    await orders.add_account("shopify", SHOP, "sec")
    before = dead_lettered("rejected")
    body, headers = shopify(5, line_items=[{"quantity": "two", "price": "1"}])
    resp = await orders.http.post(PATH, content=body, headers=headers)
    assert resp.status_code == 200

    [result] = (await orders.apply_queue()).values()
    assert result.outcome == "rejected" and "line_items[0].quantity" in (result.error or "")
    assert dead_lettered("rejected") == before + 1
    assert await counts(orders) == {"queued": 1, "orders": 0, "deliveries": 0, "events": 0}
    assert await orders.apply_queue() == {}  # a dead-letter entry is never taken again

    listed = await asyncio.to_thread(CliRunner().invoke, orders_cli, ["rejected"])
    assert listed.exit_code == 0, listed.output
    [entry] = json.loads(listed.output)
    assert entry["rejected_reason"].startswith("invalid_order: ")
    assert json.loads(entry["raw_body"])["line_items"] == [{"quantity": "two", "price": "1"}]

    requeued = await asyncio.to_thread(
        CliRunner().invoke, orders_cli, ["rejected", "--requeue", str(entry["id"])]
    )
    assert requeued.output.strip() == "requeued 1"
    [again] = (await orders.apply_queue()).values()
    assert again.outcome == "rejected"  # the same body, the same reason: nothing was fixed


async def test_a_crash_between_the_order_commit_and_the_delete_applies_it_again_as_a_no_op(
    orders: Orders,
):
    await orders.add_account("shopify", SHOP, "sec")
    body, headers = shopify(7)
    assert (await orders.push(PATH, body, headers)).outcome == "created"
    # The row came back as it would after a crash before its delete: the push is queued again.
    resp = await orders.http.post(PATH, content=body, headers=headers)
    assert resp.status_code == 200
    [result] = (await orders.apply_queue()).values()
    assert result.outcome == "duplicate_delivery"
    assert await counts(orders) == {"queued": 0, "orders": 1, "deliveries": 1, "events": 1}


class _BrokenPool:
    def acquire(self):
        raise ConnectionError("the database went away")


async def test_a_failed_apply_is_retried_with_a_delay_then_dead_lettered(orders: Orders):
    await orders.add_account("shopify", SHOP, "sec")
    body, headers = shopify(8)
    await orders.http.post(PATH, content=body, headers=headers)
    broken = NewOrderWriter(lambda: _BrokenPool())  # type: ignore[arg-type, return-value]
    depth = orders.service.state.queue_depth

    [result] = (await webhook_queue.apply_once(orders.pool, broken, depth)).values()
    assert result.outcome == "failed" and "went away" in (result.error or "")
    async with orders.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT attempts, last_error, leased_until > now() + interval '4 s' AS delayed,"
            " rejected_reason FROM webhook_queue"
        )
    assert (row["attempts"], row["delayed"], row["rejected_reason"]) == (1, True, None)
    assert "went away" in row["last_error"]
    assert await webhook_queue.apply_once(orders.pool, broken, depth) == {}  # not due yet

    before = dead_lettered("failed")
    async with orders.pool.acquire() as conn:  # the last attempt is due
        await conn.execute(
            "UPDATE webhook_queue SET leased_until = now(), attempts = $1",
            webhook_queue.MAX_ATTEMPTS - 1,
        )
    [last] = (await webhook_queue.apply_once(orders.pool, broken, depth)).values()
    assert last.outcome == "failed" and dead_lettered("failed") == before + 1
    async with orders.pool.acquire() as conn:
        reason = await conn.fetchval("SELECT rejected_reason FROM webhook_queue")
    assert "went away" in reason


async def test_two_passes_at_once_claim_different_rows(orders: Orders):
    await orders.add_account("shopify", SHOP, "sec")
    for n in range(1, 21):
        body, headers = shopify(n)
        await orders.http.post(PATH, content=body, headers=headers)
    async with orders.pool.acquire() as a, orders.pool.acquire() as b:
        first, second = await asyncio.gather(queue.claim(a, 12, 60), queue.claim(b, 12, 60))
    ids_a, ids_b = {r.id for r in first}, {r.id for r in second}
    assert not ids_a & ids_b and len(ids_a | ids_b) == 20


async def test_a_full_queue_answers_503_with_retry_after_and_stores_nothing(orders: Orders):
    await orders.add_account("shopify", SHOP, "sec")
    body, headers = shopify(9)
    depth = orders.service.state.queue_depth
    depth.sampled(100_000)  # the service's default limit
    try:
        resp = await orders.http.post(PATH, content=body, headers=headers)
    finally:
        depth.sampled(0)
    assert resp.status_code == 503 and resp.headers["retry-after"] == "60"
    assert resp.json()["error"] == "queue_full"
    assert (await counts(orders))["queued"] == 0
    again = await orders.http.post(PATH, content=body, headers=headers)
    assert again.status_code == 200
