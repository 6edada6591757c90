"""`ovop`: the operator's command line. Each service contributes its own commands."""

from __future__ import annotations

import click

from services.notifications.entrypoints.cli import sms
from services.orders.entrypoints.cli import channels, orders
from shared.messaging.cli import dlq


@click.group()
def main() -> None:
    """OVOP fulfilment platform."""


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


for group in (channels, orders, sms, dlq):
    main.add_command(group)

if __name__ == "__main__":
    main()
