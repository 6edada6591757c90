"""`ovop catalog ...`: the operator's commands for the catalog service."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

import click

T = TypeVar("T")
PROGRESS_FROM_ROWS = 500  # a progress bar for files at least this long
SHOWN_ERRORS = 200


@click.group()
def catalog() -> None:
    """Catalog service commands."""


def _progress(label: str, items: list[T]) -> Iterable[T]:
    if len(items) < PROGRESS_FROM_ROWS:
        yield from items
        return
    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
        yield from bar


@catalog.command("import")
@click.option("--producers", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--products", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--listings", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--partial", is_flag=True, help="Import the valid rows even if others are bad.")
@click.option("--update", is_flag=True, help="Change producers, products, listings that exist.")
def import_command(
    producers: Path | None,
    products: Path | None,
    listings: Path | None,
    partial: bool,
    update: bool,
) -> None:
    """Validate every row of the CSV files, then import them (all or nothing).

    Minimum columns (extra columns are allowed, see services/catalog/README.md):
    producers: producer_id,name,phone,province,village,lat,lon;
    products: sku,producer_id,name,price,currency,weight_g,stock;
    listings: channel,account,channel_sku,sku.
    Reads DATABASE_URL or CATALOG_DATABASE_URL. Exits 1 when a row is refused (without
    --partial, nothing is imported then).
    """
    from services.catalog.bootstrap import message_bus
    from services.catalog.imports import import_files
    from shared.db.pool import connect
    from shared.settings import database_url_for

    paths = {
        kind: path
        for kind, path in (("producers", producers), ("products", products), ("listings", listings))
        if path is not None
    }
    if not paths:
        raise click.UsageError("give at least one of --producers, --products, --listings")

    async def run():
        conn = await connect(database_url_for("catalog"))
        try:
            return await import_files(
                message_bus(lambda: conn), paths, partial=partial, update=update, progress=_progress
            )
        finally:
            await conn.close()

    counts, errors = asyncio.run(run())
    for error in errors[:SHOWN_ERRORS]:
        click.echo(str(error), err=True)
    if len(errors) > SHOWN_ERRORS:
        click.echo(f"... and {len(errors) - SHOWN_ERRORS} more", err=True)
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    if errors and not partial:
        click.echo(f"{len(errors)} error(s): nothing imported", err=True)
        sys.exit(1)
    click.echo(f"imported {summary}" + (f"; {len(errors)} row error(s) skipped" if errors else ""))
