"""`ovop channels ...` and `ovop orders ...`: operator commands on the orders database."""

from __future__ import annotations

import asyncio
import json

import click

from services.orders import handlers
from services.orders.adapters import postgres as db
from services.orders.adapters import webhook_queue
from services.orders.adapters.platforms.registry import CHANNELS, normalize
from services.orders.domain.errors import OrderError
from services.orders.domain.status import OrderStatus
from shared.contracts.identifiers import identifier
from shared.contracts.platforms import PLATFORMS, Platform, platform_named
from shared.db.pool import connect
from shared.settings import database_url_for


class PlatformParam(click.ParamType):
    """A platform by its name or an alias ("tiktok", "TikTok Shop"); the command gets the name."""

    name = "platform"

    def __init__(self, platforms: tuple[Platform, ...] = PLATFORMS) -> None:
        self.platforms = platforms

    def get_metavar(self, param, ctx=None) -> str:
        return "{" + "|".join(self.platforms) + "}"

    def convert(self, value, param, ctx) -> Platform:
        try:
            platform = platform_named(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if platform not in self.platforms:
            self.fail(f"{platform} is not one of {', '.join(self.platforms)}", param, ctx)
        return platform


class IdentifierParam(click.ParamType):
    """An account or SKU as stored (shared/contracts/identifiers.py): trimmed, NFC."""

    name = "identifier"

    def convert(self, value, param, ctx) -> str:
        try:
            return identifier(value)
        except ValueError as exc:
            self.fail(f"{value!r} {exc}", param, ctx)


ACCOUNT_PLATFORMS = PlatformParam(tuple(c.name for c in CHANNELS if c.has_accounts))


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
    if not secret:
        raise click.UsageError("give --secret or set OVOP_CHANNEL_SECRET")
    return secret


@click.group()
def channels() -> None:
    """Sales-channel accounts and their webhook secrets."""


@channels.command("add")
@click.argument("platform", type=ACCOUNT_PLATFORMS)
@click.argument("account", type=IdentifierParam())
@click.option(
    "--secret",
    envvar="OVOP_CHANNEL_SECRET",
    help="Webhook/API secret (or set OVOP_CHANNEL_SECRET).",
)
@click.option("--app-key", help="Lazada/TikTok app key, Tiki client id, WooCommerce API key.")
@click.option("--partner-id", help="Shopee partner id.")
@click.option("--shop-id", help="Shopee shop id, TikTok shop cipher.")
@click.option("--callback-url", help="Shopee: the push URL registered (it is signed).")
@click.option("--api-base", help="The platform API's base URL (a sandbox, a fake).")
@click.option("--queue", help="Tiki: the event queue code.")
@click.option("--location-id", help="Shopify: the location whose stock is synced (a gid).")
@click.option(
    "--access-token",
    envvar="OVOP_CHANNEL_ACCESS_TOKEN",
    help="Shop access token (or set OVOP_CHANNEL_ACCESS_TOKEN).",
)
def add(platform: str, account: str, secret: str | None, **options: str | None) -> None:
    """Add (or replace) a channel account. Secrets are never printed or logged."""
    value = _secret(secret)
    settings = {k: v for k, v in options.items() if v}
    run(lambda c: db.add_channel_account(c, platform, account, value, settings))
    click.echo(f"{platform} account {account} added")


@channels.command("rotate")
@click.argument("platform", type=PlatformParam())
@click.argument("account", type=IdentifierParam())
@click.option(
    "--secret",
    envvar="OVOP_CHANNEL_SECRET",
    help="The new secret (or set OVOP_CHANNEL_SECRET); the previous one stays valid till the next.",
)
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
        settings = " ".join(f"{k}={v}" for k, v in sorted(row["settings"].items()))
        click.echo(f"{row['platform']:12} {row['account']:30} secrets={row['secrets']} {settings}")


@click.group()
def orders() -> None:
    """Canonical orders."""


@orders.command("normalize")
@click.argument("platform", type=PlatformParam())
@click.argument("payload", type=click.File("rb"))
@click.option("--header", "headers", multiple=True, help="'Name: value', as the push carried it.")
@click.option("--detail", type=click.File("rb"), help="The fetched order detail (thin pushes).")
@click.option(
    "--account",
    type=IdentifierParam(),
    default="cli",
    show_default=True,
    help="The account it came to.",
)
def normalize_cmd(platform: str, payload, headers, detail, account: str) -> None:
    """Print the canonical order of a platform payload (no side effects)."""
    from datetime import UTC, datetime

    parsed_headers = {}
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep:
            raise click.UsageError(f"--header {header!r} is not 'Name: value'")
        parsed_headers[name.strip().lower()] = value.strip()
    try:
        body = json.loads(payload.read())
        detail_body = json.loads(detail.read()) if detail else None
        order = normalize(platform, body, parsed_headers, detail_body, account, datetime.now(UTC))
    except (ValueError, OrderError) as exc:
        raise click.ClickException(f"cannot normalize: {exc}") from None
    click.echo(json.dumps(order.model_dump(mode="json"), indent=2, ensure_ascii=False))


@orders.command("list")
@click.option("--channel", type=PlatformParam())
@click.option("--account", type=IdentifierParam())
@click.option("--status", type=click.Choice([s.value for s in OrderStatus], case_sensitive=False))
@click.option("--producer")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def list_cmd(channel, account, status, producer, limit: int, as_json: bool) -> None:
    """Canonical orders, newest first."""
    found = run(
        lambda c: db.list_orders(
            c,
            channel=channel,
            account=account,
            status=status.upper() if status else None,
            producer=producer,
            limit=limit,
        )
    )
    if as_json:
        click.echo(
            json.dumps([o.model_dump(mode="json") for o in found], indent=2, ensure_ascii=False)
        )
        return
    for o in found:
        click.echo(
            f"{o.order_id}  {o.channel:12} {o.external_id:22} {o.status:16} {o.total:>10} "
            f"{o.currency}{'  ' + o.hold_reason if o.hold_reason else ''}"
        )


@orders.command("rejected")
@click.option("--limit", default=100, show_default=True)
@click.option("--requeue", "ids", multiple=True, type=int, help="Put this entry back in the queue.")
def rejected_cmd(limit: int, ids: tuple[int, ...]) -> None:
    """Pushes the webhook queue could not apply (dead-letter entries), newest first, as JSON;
    with --requeue, put entries back once the cause is fixed."""
    if ids:
        done = run(lambda c: webhook_queue.requeue(c, ids))
        missing = sorted(set(ids) - set(done))
        click.echo(f"requeued {len(done)}" + (f"; not dead-lettered: {missing}" if missing else ""))
        return
    entries = run(lambda c: webhook_queue.rejected(c, limit))
    click.echo(json.dumps(entries, indent=2, ensure_ascii=False, default=str))


@orders.command("resolve")
@click.argument("order_id")
@click.option("--sku", "skus", multiple=True, help="CHANNEL_SKU=OUR_SKU (or 'line name=SKU').")
@click.option("--province")
@click.option("--district")
@click.option("--ward")
@click.option("--line1")
@click.option("--line2")
@click.option("--phone")
@click.option(
    "--accept-amounts",
    is_flag=True,
    help="Amounts that do not add up were checked on the platform: go on with its total.",
)
def resolve_cmd(order_id: str, skus, accept_amounts: bool, **address: str | None) -> None:
    """Fix an ON_HOLD order (SKU mapping, address, amounts) and send it on to the catalog."""
    mapping = {}
    for item in skus:
        channel_sku, sep, ours = item.rpartition("=")
        if not sep or not channel_sku or not ours:
            raise click.UsageError(f"--sku {item!r} is not CHANNEL_SKU=SKU")
        try:
            mapping[channel_sku] = identifier(ours)
        except ValueError as exc:
            raise click.UsageError(f"--sku {item!r}: the SKU {exc}") from None

    async def apply(conn):
        accepted = await handlers.resolve_order(
            conn,
            order_id,
            mapping,
            {k: v for k, v in address.items() if v},
            "operator:cli",
            accept_amounts,
        )
        await handlers.enqueue_all(conn, accepted.events, order_id)
        return accepted

    try:
        accepted = run(apply)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    except OrderError as exc:
        raise click.ClickException(f"cannot resolve: {exc}") from None
    click.echo(f"{order_id}: {accepted.outcome} ({accepted.status})")


@orders.command("cancel")
@click.argument("order_id")
@click.option("--reason", default="cancelled by the operator", show_default=True)
@click.option("--line", "lines", multiple=True, help="SKU=UNITS to cancel only those units.")
def cancel_cmd(order_id: str, reason: str, lines) -> None:
    """Cancel an order or some of its units (after pickup: a return)."""
    wanted = {}
    for item in lines:
        sku, sep, units = item.rpartition("=")
        if not sep or not units.isdigit() or int(units) <= 0:
            raise click.UsageError(f"--line {item!r} is not SKU=UNITS")
        wanted[sku] = int(units)

    async def apply(conn):
        accepted = await handlers.cancel_order(conn, order_id, reason, wanted, "operator:cli")
        await handlers.enqueue_all(conn, accepted.events, order_id)
        return accepted

    try:
        accepted = run(apply)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{order_id}: {accepted.outcome} ({accepted.status})")


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
