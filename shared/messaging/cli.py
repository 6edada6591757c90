"""`ovop dlq list|replay`: inspect and replay dead-letter topics."""

from __future__ import annotations

import asyncio
import json

import click

from shared.contracts.topics import TOPICS
from shared.messaging.dlq import list_dead_letters, replay
from shared.settings import kafka_bootstrap_servers


@click.group()
def dlq() -> None:
    """Dead-letter topics: what failed, why, and replaying it."""


@dlq.command("list")
@click.option("--topic", help="A dead-letter topic; all of them by default.")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(topic: str | None, as_json: bool) -> None:
    topics = [topic] if topic else [t.dlq for t in TOPICS]
    entries = asyncio.run(list_dead_letters(kafka_bootstrap_servers(), topics))
    if as_json:
        click.echo(json.dumps([e.model_dump() for e in entries], indent=2, ensure_ascii=False))
        return
    if not entries:
        click.echo("no dead letters")
    for e in entries:
        h = e.headers
        click.echo(
            f"{e.dlq_topic}@{e.partition}:{e.offset}  {h.get('failed_at', '?')}  "
            f"consumer={h.get('consumer')}  {h.get('error_type')}: {h.get('error_message')}"
        )


@dlq.command("replay")
@click.option("--topic", required=True, help="The dead-letter topic to replay.")
@click.option("--limit", type=int, help="Replay at most this many entries.")
def replay_cmd(topic: str, limit: int | None) -> None:
    count = asyncio.run(replay(kafka_bootstrap_servers(), topic, limit=limit))
    click.echo(f"replayed {count} message(s) from {topic}")
