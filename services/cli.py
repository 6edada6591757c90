"""`ovop`: the operator's command line. Each service contributes its own commands."""

from __future__ import annotations

import socket

import click

from services.catalog.entrypoints.cli import catalog
from services.logistics.entrypoints.cli import logistics
from services.notifications.entrypoints.cli import sms
from services.orders.entrypoints.cli import channels, orders
from shared.messaging.cli import dlq
from shared.settings import NoDatabaseNamed, RunnerSettings, StaleRunEnv, run_env_applied

# They start servers and services from their own environment, never another run's.
STARTERS = ("run", "serve")


class _Ovop(click.Group):
    """Turns "no server to talk to" into one line for the operator instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NoDatabaseNamed as exc:
            raise click.ClickException(
                f"{exc}, or start `make run` in this repository (its servers are found then)"
            ) from None
        except (ConnectionRefusedError, socket.gaierror) as exc:
            raise click.ClickException(f"cannot reach the database: {exc}") from None


@click.group(cls=_Ovop)
@click.pass_context
def main(ctx: click.Context) -> None:
    """OVOP fulfilment platform.

    Where the environment names no server, the commands other than `run` and `serve` use the
    servers and admin token of the `ovop run` (make run) running from this repository or
    OVOP_RUN_DIR: its env file.
    """
    if ctx.invoked_subcommand in STARTERS:
        return
    try:
        ctx.with_resource(run_env_applied())
    except StaleRunEnv as exc:
        click.echo(f"ovop: ignoring {exc}", err=True)


@main.command()
@click.argument("service", type=click.Choice(["orders", "catalog", "logistics", "notifications"]))
def serve(service: str) -> None:
    """Run one service (consumers, outbox relay and HTTP API)."""
    from services.platform.serve import serve_service

    serve_service(service)


@main.command()
@click.option(
    "--interval", default=5.0, show_default=True, help="Seconds between simulated orders."
)
def run(interval: float) -> None:
    """Start the whole platform with the order simulator (what `make run` does)."""
    from services.platform.run import main as run_main

    raise SystemExit(run_main(interval))


@main.command()
@click.option("--demo", is_flag=True, help="Also load the demo catalogue and demo-shop account.")
def setup(demo: bool) -> None:
    """Create topics, databases and migrations (idempotent); run it before `serve`.

    Reads KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL and, with --demo, OVOP_DEMO_SHOP_SECRET (from the
    environment only, so the secret never shows in the process list).
    """
    import asyncio

    from services.platform.setup import load_demo_data, prepare

    given = RunnerSettings()
    bootstrap, server_url = given.kafka_bootstrap_servers, given.database_url
    secret = given.demo_shop_secret()
    if not bootstrap:
        raise click.UsageError("set KAFKA_BOOTSTRAP_SERVERS")
    if demo and not secret:
        raise click.UsageError("--demo needs OVOP_DEMO_SHOP_SECRET (demo-shop's webhook secret)")
    asyncio.run(prepare(bootstrap, server_url))
    click.echo("topics, databases and migrations ready")
    if demo and secret:
        click.echo(f"demo data: {asyncio.run(load_demo_data(server_url, secret))}")


@main.command()
@click.option("--orders-url", required=True, help="The orders service, e.g. http://orders:8000.")
@click.option("--account", default="demo-shop", show_default=True, help="The Shopify account.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between orders.")
@click.option("--count", type=int, help="Stop after this many orders (default: never).")
def simulate(orders_url: str, account: str, interval: float, count: int | None) -> None:
    """Post signed Shopify order webhooks to the orders service (secret: OVOP_DEMO_SHOP_SECRET)."""
    import asyncio

    from services.platform.simulator import simulate as run_simulator

    secret = RunnerSettings().demo_shop_secret()
    if not secret:
        raise click.UsageError("set OVOP_DEMO_SHOP_SECRET (the account's webhook secret)")
    base = orders_url.rstrip("/")
    asyncio.run(run_simulator(base, account, secret, interval_s=interval, count=count))


for group in (catalog, channels, orders, logistics, sms, dlq):
    main.add_command(group)

if __name__ == "__main__":
    main()
