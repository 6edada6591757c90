"""`ovop catalog ...`: the operator's commands for the catalog service."""

from __future__ import annotations

import click


@click.group()
def catalog() -> None:
    """Catalog service commands."""
