"""The catalog's HTTP routes: the admin API and the public story pages."""

from __future__ import annotations

from starlette.routing import BaseRoute

from services.catalog.entrypoints.admin import admin_routes
from services.catalog.entrypoints.deps import CatalogHttp
from services.catalog.entrypoints.story import story_routes
from services.catalog.settings import CatalogSettings
from shared.runtime import Service


def routes(service: Service, options: CatalogSettings) -> list[BaseRoute]:
    deps = CatalogHttp(service, options)
    return [*admin_routes(deps), *story_routes(deps)]
