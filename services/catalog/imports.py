"""Importing producers, products and listings from CSV: validate every row first, then write.

Each row is checked on its own (domain.intake), then against the other rows and the database:
duplicates, unknown producers or SKUs, ids that already exist (unless `update`). By default a
single bad row imports nothing; `partial` imports the valid rows (a row whose producer or SKU is
refused is refused too). The checks against the database and the writes are one command
(`ImportCatalog`) on the catalog's bus, so one transaction.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from services.catalog.adapters.repository import CatalogRepository
from services.catalog.adapters.uow import CatalogUnitOfWork
from services.catalog.commands import ImportCatalog
from services.catalog.domain import Producer, Product
from services.catalog.domain.intake import (
    IntakeError,
    Listing,
    listing_from_csv,
    producer_from_csv,
    product_from_csv,
)
from shared.messaging.bus import MessageBus

REQUIRED = {
    "producers": ("producer_id", "name", "phone", "province", "village", "lat", "lon"),
    "products": ("sku", "producer_id", "name", "price", "currency", "weight_g", "stock"),
    "listings": ("channel", "account", "channel_sku", "sku"),
}
T = TypeVar("T")
Progress = Callable[[str, list[T]], Iterable[T]]


@dataclass(frozen=True)
class RowError:
    file: str
    row: int  # the line in the file; the header is line 1
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.field}: {self.message}"


@dataclass
class Batch:
    producers: list[tuple[int, Producer]] = field(default_factory=list)
    products: list[tuple[int, Product, int]] = field(default_factory=list)
    listings: list[tuple[int, Listing]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "producers": len(self.producers),
            "products": len(self.products),
            "listings": len(self.listings),
        }


def read_csv(path: Path, kind: str) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """The rows with their line numbers, or a header error naming the missing columns."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        missing = [c for c in REQUIRED[kind] if c not in header]
        if missing:
            return [], [RowError(path.name, 1, ",".join(missing), "missing column(s)")]
        reader.fieldnames = header
        rows = []
        for row in reader:
            rows.append((reader.line_num, {k: v for k, v in row.items() if k is not None}))
        return rows, []


def validate_rows(
    files: dict[str, tuple[str, list[tuple[int, dict[str, str]]]]],
    progress: Progress | None = None,
) -> Batch:
    """Checks every row on its own and against the other rows of the files (no database)."""
    track: Progress = progress or (lambda _label, items: items)
    batch = Batch()
    for kind, (name, rows) in files.items():
        seen: dict[object, int] = {}
        for line, row in track(f"checking {name}", rows):
            try:
                key: object
                if kind == "producers":
                    producer = producer_from_csv(row)
                    key, key_field = producer.producer_id, "producer_id"
                elif kind == "products":
                    product, stock = product_from_csv(row)
                    key, key_field = product.sku, "sku"
                else:
                    listing = listing_from_csv(row)
                    key = (listing.channel, listing.account, listing.channel_sku)
                    key_field = "channel_sku"
            except IntakeError as exc:
                batch.errors += [RowError(name, line, e.field, e.message) for e in exc.errors]
                continue
            if key in seen:
                batch.errors.append(
                    RowError(name, line, key_field, f"duplicate of line {seen[key]}")
                )
                continue
            seen[key] = line
            if kind == "producers":
                batch.producers.append((line, producer))
            elif kind == "products":
                batch.products.append((line, product, stock))
            else:
                batch.listings.append((line, listing))
    return batch


async def check_references(
    db: CatalogRepository, batch: Batch, names: dict[str, str], *, update: bool
) -> Batch:
    """Refuses rows that clash with the database or point at nothing; returns the rows left."""
    out = Batch(errors=list(batch.errors))
    stored = await db.existing_producer_ids([p.producer_id for _, p in batch.producers])
    for line, p in batch.producers:
        if p.producer_id in stored and not update:
            out.errors.append(_exists(names["producers"], line, "producer_id", p.producer_id))
        else:
            out.producers.append((line, p))
    producers = {p.producer_id for _, p in out.producers}
    ids = {p.producer_id for _, p, _ in batch.products} - producers
    producers |= await db.existing_producer_ids(ids)
    stored = await db.existing_skus([p.sku for _, p, _ in batch.products])
    for line, product, stock in batch.products:
        if product.sku in stored and not update:
            out.errors.append(_exists(names["products"], line, "sku", product.sku))
        elif product.producer_id not in producers:
            out.errors.append(
                RowError(
                    names["products"],
                    line,
                    "producer_id",
                    f"unknown producer {product.producer_id}",
                )
            )
        else:
            out.products.append((line, product, stock))
    skus = {p.sku for _, p, _ in out.products}
    skus |= await db.existing_skus({lst.sku for _, lst in batch.listings} - skus)
    mapped = await db.listed_skus(
        [(lst.channel, lst.account, lst.channel_sku) for _, lst in batch.listings]
    )
    for line, listing in batch.listings:
        current = mapped.get((listing.channel, listing.account, listing.channel_sku))
        if listing.sku not in skus:
            out.errors.append(
                RowError(names["listings"], line, "sku", f"unknown SKU {listing.sku}")
            )
        elif current not in (None, listing.sku) and not update:
            out.errors.append(
                RowError(names["listings"], line, "channel_sku", f"already maps to {current}")
            )
        else:
            out.listings.append((line, listing))
    out.errors.sort(key=lambda e: (list(names.values()).index(e.file), e.row))
    return out


async def write(db: CatalogRepository, batch: Batch, progress: Progress | None = None) -> None:
    track: Progress = progress or (lambda _label, items: items)
    for _, producer in track("importing producers", batch.producers):
        await db.upsert_producer(producer)
    for _, product, stock in track("importing products", batch.products):
        await db.upsert_product(product, stock)
    for _, listing in track("importing listings", batch.listings):
        await db.upsert_listing(listing.channel, listing.account, listing.channel_sku, listing.sku)


async def import_catalog(
    cmd: ImportCatalog, uow: CatalogUnitOfWork
) -> tuple[dict[str, int], list[RowError]]:
    checked = await check_references(uow.catalog, cmd.batch, cmd.files, update=cmd.update)
    if checked.errors and not cmd.partial:
        return _nothing(), checked.errors
    await write(uow.catalog, checked, cmd.progress)
    return checked.counts(), checked.errors


async def import_files(
    bus: MessageBus[CatalogUnitOfWork],
    paths: dict[str, Path],
    *,
    partial: bool = False,
    update: bool = False,
    progress: Progress | None = None,
) -> tuple[dict[str, int], list[RowError]]:
    """Validates the files and imports them; returns what was imported and every row error."""
    files: dict[str, tuple[str, list[tuple[int, dict[str, str]]]]] = {}
    header_errors: list[RowError] = []
    for kind, path in paths.items():
        rows, errors = read_csv(path, kind)
        files[kind] = (path.name, rows)
        header_errors += errors
    if header_errors:
        return _nothing(), header_errors
    batch = validate_rows(files, progress)
    names = {kind: name for kind, (name, _) in files.items()}
    names = {k: names.get(k, f"{k}.csv") for k in REQUIRED}
    command = ImportCatalog(batch, names, partial=partial, update=update, progress=progress)
    return await bus.handle(command)


def _exists(file: str, line: int, field_name: str, value: str) -> RowError:
    return RowError(file, line, field_name, f"{value} already exists (--update changes it)")


def _nothing() -> dict[str, int]:
    return {"producers": 0, "products": 0, "listings": 0}
