"""`ovop sms list`: what was sent to whom, its encoding and segments."""

from __future__ import annotations

import asyncio
import json

import click

from services.notifications.adapters import postgres as db
from shared.db.pool import connect
from shared.settings import database_url_for


async def _messages(limit: int) -> list[dict]:
    conn = await connect(database_url_for("notifications"))
    try:
        return await db.list_messages(conn, limit)
    finally:
        await conn.close()


@click.group()
def sms() -> None:
    """SMS messages."""


@sms.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=50, show_default=True)
def list_cmd(as_json: bool, limit: int) -> None:
    rows = asyncio.run(_messages(limit))
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    if not rows:
        click.echo("no messages")
    for r in rows:
        click.echo(
            f"{r['created_at']:%H:%M:%S} {r['status']:9} {r['recipient']} "
            f"[{r['encoding']}, {r['segments']} seg] {r['text']}"
        )
