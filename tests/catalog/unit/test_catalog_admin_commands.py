"""The admin API's writes as commands on the catalog's bus, on in-memory repositories: each
refusal names its reason and field, and a refused command changes nothing."""

from __future__ import annotations

import pytest

from services.catalog.commands import (
    Refusal,
    RemoveListing,
    SaveListing,
    SaveProducer,
    SaveProduct,
)
from services.catalog.domain import StockLevel
from services.catalog.domain.intake import Listing
from tests.catalog.conftest import TEST_PRODUCER
from tests.catalog.unit.fakes import FakeUnitOfWork, fake_bus, product

HONEY = "HG-HONEY-500"


async def refused(bus, command) -> tuple[str, str]:
    with pytest.raises(Refusal) as refusal:
        await bus.handle(command)
    return refusal.value.reason, refusal.value.field


async def test_a_producer_is_created_once_and_replaced_after():
    uow = FakeUnitOfWork()
    bus = fake_bus(uow)

    await bus.handle(SaveProducer(TEST_PRODUCER, create=True))
    assert await refused(bus, SaveProducer(TEST_PRODUCER, create=True)) == (
        "duplicate",
        "producer_id",
    )
    renamed = TEST_PRODUCER.model_copy(update={"name": "Renamed co-operative"})
    await bus.handle(SaveProducer(renamed))

    assert uow.store.producers[TEST_PRODUCER.producer_id].name == "Renamed co-operative"


async def test_a_product_needs_its_producer_and_takes_stock_only_when_new():
    uow = FakeUnitOfWork()
    bus = fake_bus(uow)
    honey = product(HONEY)

    assert await refused(bus, SaveProduct(honey, 5, create=True)) == (
        "unknown_producer",
        "producer_id",
    )
    await bus.handle(SaveProducer(TEST_PRODUCER))
    await bus.handle(SaveProduct(honey, 5, create=True))
    assert await refused(bus, SaveProduct(honey, create=True)) == ("duplicate", "sku")
    assert await refused(bus, SaveProduct(honey, 3)) == ("invalid", "stock")
    await bus.handle(SaveProduct(honey))

    assert uow.store.levels[HONEY] == StockLevel(on_hand=5, reserved=0)


async def test_a_listing_maps_to_a_known_sku_and_never_to_two():
    uow = FakeUnitOfWork()
    bus = fake_bus(uow)
    listing = Listing(channel="shopee", account="vn-shop", channel_sku="SP-1", sku=HONEY)

    assert await refused(bus, SaveListing(listing)) == ("unknown_sku", "sku")
    await bus.handle(SaveProducer(TEST_PRODUCER))
    for sku in (HONEY, "OTHER-1"):
        await bus.handle(SaveProduct(product(sku), create=True))
    assert await bus.handle(SaveListing(listing)) is True
    assert await bus.handle(SaveListing(listing)) is False  # the same mapping again
    other = listing.model_copy(update={"sku": "OTHER-1"})
    assert await refused(bus, SaveListing(other)) == ("duplicate", "channel_sku")

    await bus.handle(RemoveListing("shopee", "vn-shop", "SP-1"))
    assert await refused(bus, RemoveListing("shopee", "vn-shop", "SP-1")) == (
        "not_found",
        "channel_sku",
    )
    assert uow.store.listings == {}
