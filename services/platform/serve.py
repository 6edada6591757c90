"""`ovop serve <service>`: run one service (what each container and `make run` start)."""

from __future__ import annotations

import importlib

from shared.runtime import serve

SERVICE_NAMES = ("orders", "catalog", "logistics", "notifications")


def serve_service(name: str) -> None:
    if name not in SERVICE_NAMES:
        raise ValueError(f"unknown service {name!r}")
    bootstrap = importlib.import_module(f"services.{name}.bootstrap")
    serve(bootstrap.build())
