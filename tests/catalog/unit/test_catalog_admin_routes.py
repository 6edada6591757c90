"""The admin API's routes on a bus of in-memory repositories, with no database: a write route
turns its body into one command for the bus and answers from what the bus says."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from services.catalog.adapters.uow import CatalogUnitOfWork
from services.catalog.commands import SaveListing
from services.catalog.domain.intake import Listing
from services.catalog.entrypoints.admin import admin_routes
from services.catalog.entrypoints.deps import CatalogHttp
from services.catalog.handlers import COMMAND_HANDLERS
from services.catalog.settings import CatalogSettings
from shared.messaging.bus import MessageBus
from shared.runtime import Service
from shared.settings import ServiceSettings
from tests.catalog.conftest import TEST_PRODUCER
from tests.catalog.unit.fakes import FakeUnitOfWork, product

AUTH = {"authorization": "Bearer admin-secret"}
HONEY = "HG-HONEY-500"


class RecordingBus(MessageBus[CatalogUnitOfWork]):
    """The catalog's bus on one fake unit of work, keeping every message it was handed."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        super().__init__(lambda: uow, commands=COMMAND_HANDLERS)
        self.handled: list[object] = []

    async def handle(self, message: object, uow: CatalogUnitOfWork | None = None) -> Any:
        self.handled.append(message)
        return await super().handle(message, uow)


def client_on(bus: RecordingBus) -> httpx.AsyncClient:
    # No pool: a route that went around the bus to the database would fail.
    settings = ServiceSettings(service="catalog", admin_token="admin-secret")
    service = Service(settings=settings, migrations=None, bus=bus)
    app = Starlette(routes=admin_routes(CatalogHttp(service, CatalogSettings())))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://catalog")


async def test_a_listing_route_hands_one_command_to_the_bus_and_answers_whether_it_is_new():
    uow = FakeUnitOfWork()
    await uow.catalog.upsert_producer(TEST_PRODUCER)
    await uow.catalog.upsert_product(product(HONEY), 0)
    bus = RecordingBus(uow)
    body = {"channel": "lazada", "account": "vn-1", "channel_sku": "LZ-7", "sku": HONEY}

    async with client_on(bus) as client:
        created = await client.post("/admin/listings", json=body, headers=AUTH)
        again = await client.post("/admin/listings", json=body, headers=AUTH)

    assert (created.status_code, again.status_code) == (201, 200)
    assert created.json() == body
    assert bus.handled == [SaveListing(Listing(**body))] * 2
    assert uow.store.listings == {("lazada", "vn-1", "LZ-7"): HONEY}
    assert uow.commits == 2


async def test_a_refusal_from_the_bus_is_answered_with_its_status_reason_and_field():
    uow = FakeUnitOfWork()
    await uow.catalog.upsert_producer(TEST_PRODUCER)
    await uow.catalog.upsert_product(product(HONEY), 0)
    await uow.catalog.upsert_product(product("HG-TEA-200"), 0)
    await uow.catalog.upsert_listing("lazada", "vn-1", "LZ-7", "HG-TEA-200")
    bus = RecordingBus(uow)
    body = {"channel": "lazada", "account": "vn-1", "channel_sku": "LZ-7", "sku": HONEY}

    async with client_on(bus) as client:
        clash = await client.post("/admin/listings", json=body, headers=AUTH)
        unknown = await client.delete("/admin/listings/lazada/vn-1/LZ-8", headers=AUTH)

    assert clash.status_code == 409
    assert clash.json()["error"] == "duplicate"
    assert [e["field"] for e in clash.json()["errors"]] == ["channel_sku"]
    assert (unknown.status_code, unknown.json()["error"]) == (404, "not_found")
    assert uow.store.listings == {("lazada", "vn-1", "LZ-7"): "HG-TEA-200"}
    assert uow.commits == 0
