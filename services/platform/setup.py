"""Everything a fresh environment needs before the services start: one database per service with
its migrations, the topics with their partition counts, and the demo data."""

from __future__ import annotations

from services.catalog.adapters.postgres import load_demo
from services.catalog.bootstrap import MIGRATIONS as CATALOG
from services.logistics.bootstrap import MIGRATIONS as LOGISTICS
from services.notifications.bootstrap import MIGRATIONS as NOTIFICATIONS
from services.orders.adapters.postgres import add_channel_account, channel_secrets
from services.orders.bootstrap import MIGRATIONS as ORDERS
from shared.contracts.topics import all_topic_specs
from shared.db.pool import connect, ensure_database, migrate
from shared.messaging.admin import ensure_topics
from shared.settings import database_url_for

SERVICES = {
    "orders": ORDERS,
    "catalog": CATALOG,
    "logistics": LOGISTICS,
    "notifications": NOTIFICATIONS,
}
DEMO_SHOP = "demo-shop"
DEMO_WOO_SHOP = "demo-woo.example.vn"  # a WooCommerce shop selling under the catalogue's SKUs


async def prepare(bootstrap: str, server_url: str | None) -> None:
    await ensure_topics(bootstrap, all_topic_specs())
    for service, migrations in SERVICES.items():
        url = database_url_for(service, server_url)
        if server_url and url.rsplit("/", 1)[-1] == f"ovop_{service}":
            await ensure_database(server_url, f"ovop_{service}")
        conn = await connect(url)
        try:
            await migrate(conn, service, migrations)
        finally:
            await conn.close()


async def load_demo_data(server_url: str | None, shop_secret: str) -> dict[str, int]:
    conn = await connect(database_url_for("catalog", server_url))
    try:
        async with conn.transaction():
            counts = await load_demo(conn)
    finally:
        await conn.close()
    conn = await connect(database_url_for("orders", server_url))
    try:
        async with conn.transaction():
            for platform, account in (("shopify", DEMO_SHOP), ("woocommerce", DEMO_WOO_SHOP)):
                if await channel_secrets(conn, platform, account) != [shop_secret]:
                    await add_channel_account(conn, platform, account, shop_secret)
    finally:
        await conn.close()
    return counts
