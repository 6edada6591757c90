"""`ovop channels ...` and `ovop orders ...`: operator commands on the orders database."""

from __future__ import annotations

import asyncio
import json
import os

import click

from services.orders.adapters import postgres as db
from shared.db.pool import connect
from shared.settings import database_url_for

PLATFORMS = ("shopify",)


async def _with_conn(fn):
    conn = await connect(database_url_for("orders"))
    try:
        async with conn.transaction():
            return await fn(conn)
    finally:
        await conn.close()


def run(fn):
    return asyncio.run(_with_conn(fn))


def _secret(secret: str | None) -> str:
    secret = secret or os.environ.get("OVOP_CHANNEL_SECRET")
    if not secret:
        raise click.UsageError("give --secret or set OVOP_CHANNEL_SECRET")
    return secret


@click.group()
def channels() -> None:
    """Sales-channel accounts and their webhook secrets."""


@channels.command("add")
@click.argument("platform", type=click.Choice(PLATFORMS))
@click.argument("account")
@click.option("--secret", help="The webhook secret (or set OVOP_CHANNEL_SECRET).")
def add(platform: str, account: str, secret: str | None) -> None:
    value = _secret(secret)
    run(lambda c: db.add_channel_account(c, platform, account, value))
    click.echo(f"{platform} account {account} added")


@channels.command("rotate")
@click.argument("platform", type=click.Choice(PLATFORMS))
@click.argument("account")
@click.option("--secret", help="The new secret; the previous one stays valid until the next.")
def rotate(platform: str, account: str, secret: str | None) -> None:
    value = _secret(secret)
    try:
        run(lambda c: db.rotate_channel_secret(c, platform, account, value))
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{platform} account {account}: new secret active, previous one still accepted")


@channels.command("list")
def list_accounts() -> None:
    for row in run(db.list_channel_accounts):
        click.echo(f"{row['platform']:10} {row['account']:30} secrets={row['secrets']}")


@click.group()
def orders() -> None:
    """Canonical orders."""


@orders.command("show")
@click.argument("order_id")
@click.option("--json", "as_json", is_flag=True)
def show(order_id: str, as_json: bool) -> None:
    async def fetch(conn):
        return await db.get_order(conn, order_id), await db.status_history(conn, order_id)

    order, history = run(fetch)
    if order is None:
        raise click.ClickException(f"no order {order_id}")
    if as_json:
        body = order.model_dump(mode="json") | {
            "history": [{**h, "changed_at": h["changed_at"].isoformat()} for h in history]
        }
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    click.echo(f"{order.order_id}  {order.channel}/{order.account} #{order.external_id}")
    click.echo(f"status {order.status}  total {order.total} {order.currency}")
    for line in order.lines:
        click.echo(f"  {line.quantity} x {line.name} ({line.channel_sku})")
    for h in history:
        click.echo(
            f"  {h['changed_at']:%Y-%m-%d %H:%M:%S}  {h['status']:18} {h['source']}"
            f"{'  ' + h['reason'] if h['reason'] else ''}"
        )
