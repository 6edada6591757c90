"""`ovop sms list|show`: what was sent to whom, its encoding, segments and status timeline."""

from __future__ import annotations

import asyncio
import json
import uuid

import click

from services.notifications.adapters import postgres as db
from shared.db.pool import connect
from shared.phones import mask_phone, normalise_phone
from shared.settings import database_url_for


async def _with_conn(work):
    conn = await connect(database_url_for("notifications"))
    try:
        return await work(conn)
    finally:
        await conn.close()


def _to(channel: str, recipient: str) -> str:
    return mask_phone(recipient) if channel == "sms" else recipient


@click.group()
def sms() -> None:
    """SMS and email notifications."""


@sms.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=50, show_default=True)
@click.option("--status", default=None, help="Only messages in this status (e.g. FAILED).")
def list_cmd(as_json: bool, limit: int, status: str | None) -> None:
    """The latest messages, newest first."""
    rows = asyncio.run(_with_conn(lambda c: db.list_messages(c, limit, status and status.upper())))
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    if not rows:
        click.echo("no messages")
    for r in rows:
        click.echo(
            f"{r['created_at']:%m-%d %H:%M:%S} {r['message_id']} {r['status']:11} "
            f"{r['channel']:5} {_to(r['channel'], r['recipient'])} {r['message_type']} "
            f"[{r['encoding']}, {r['segments']} seg] {r['text']}"
        )


@sms.command("show")
@click.argument("message_id")
@click.option("--json", "as_json", is_flag=True)
def show_cmd(message_id: str, as_json: bool) -> None:
    """One message with its status timeline and the reports of its parts."""
    try:
        wanted = uuid.UUID(message_id)
    except ValueError as exc:
        raise click.BadParameter(f"{message_id!r} is not a message id") from exc
    found = asyncio.run(_with_conn(lambda c: db.message_details(c, wanted)))
    if found is None:
        raise click.ClickException(f"no message {message_id}")
    if as_json:
        click.echo(json.dumps(found, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(f"message   {found['message_id']} ({found['message_type']}, {found['category']})")
    click.echo(f"to        {_to(found['channel'], found['recipient'])} by {found['channel']}")
    reason = f" ({found['reason']})" if found["reason"] else ""
    click.echo(f"status    {found['status']}{reason}")
    click.echo(
        f"provider  {found['provider']} {found['provider_message_id'] or ''}  "
        f"attempts {found['attempts']}"
    )
    click.echo(f"text      [{found['encoding']}, {found['segments']} seg] {found['text']}")
    click.echo("timeline:")
    for h in found["timeline"]:
        click.echo(f"  {h['at']:%Y-%m-%d %H:%M:%S.%f} {h['status']:11} {h['detail'] or ''}")
    for p in found["parts"]:
        click.echo(f"  part {p['part']}: {p['status']} at {p['at']:%H:%M:%S}")


@sms.command("prefs")
@click.argument("phone")
@click.option("--language", default=None, help="vi, en, ja, th, id, fil...")
@click.option("--diacritics/--no-diacritics", default=None, help="SMS with or without accents.")
@click.option("--channel", type=click.Choice(["sms", "email"]), default=None)
@click.option("--opt-out/--opt-in", "opted_out", default=None)
def prefs_cmd(phone, language, diacritics, channel, opted_out) -> None:
    """Set a recipient's preferences (what they asked for by phone or at the counter)."""
    number = normalise_phone(phone, "VN")
    if number is None:
        raise click.BadParameter(f"{phone!r} is not a valid phone number")

    async def work(conn):
        async with conn.transaction():
            if opted_out is not None:
                await db.set_opted_out(conn, number, opted_out)
            return await db.set_preferences(
                conn, number, language=language, diacritics=diacritics, channel=channel
            )

    row = asyncio.run(_with_conn(work))
    click.echo(
        f"{mask_phone(number)}: language={row['language'] or '-'} "
        f"diacritics={'-' if row['diacritics'] is None else row['diacritics']} "
        f"channel={row['channel'] or '-'} opted_out={row['opted_out']}"
    )
