"""What one orders service keeps in memory while it runs, created by `bootstrap.build` and handed
to the webhook route and the jobs: two services in one process (tests) share none of it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from services.orders.adapters.platforms.registry import Account
from services.orders.webhook_queue import QueueDepth


class AccountCache:
    """Every push needs its account's secrets: a short-lived cache saves that round trip. A
    push that fails verification against a cached account is checked again against the
    database, so a new secret is accepted at once; every change to an account is NOTIFYed
    (migration 003) and drops it from the cache (`Jobs.watch_accounts`), so a secret rotated
    out stops verifying at once too. `ttl_s` bounds the staleness if a notification is lost."""

    def __init__(self, ttl_s: float = 2.0) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[tuple[str, str], tuple[float, Account]] = {}

    def get(self, platform: str, account: str) -> Account | None:
        entry = self._entries.get((platform, account))
        if entry and entry[0] > time.monotonic():
            return entry[1]
        return None

    def forget(self, key: str | None = None) -> None:
        """Drop `platform/account` (or everything)."""
        if key is None:
            self._entries.clear()
            return
        platform, _, account = key.partition("/")
        self._entries.pop((platform, account), None)

    def put(self, account: Account) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[(account.platform, account.account)] = (
            time.monotonic() + self.ttl_s,
            account,
        )


@dataclass
class State:
    accounts: AccountCache = field(default_factory=AccountCache)
    queue_depth: QueueDepth = field(default_factory=QueueDepth)
    # Set by the webhook once a push is committed, so the job picks it up without waiting a poll.
    fetch_wake: asyncio.Event = field(default_factory=asyncio.Event)
    webhook_wake: asyncio.Event = field(default_factory=asyncio.Event)
