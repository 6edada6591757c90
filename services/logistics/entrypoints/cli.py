"""`ovop logistics ...`: the operator's commands for the logistics service."""

from __future__ import annotations

import click


@click.group()
def logistics() -> None:
    """Logistics service commands."""
