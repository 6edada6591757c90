"""The sales channels, each registered once: the one place that lists them. Adding a channel is a
package under adapters/platforms/ with its `CHANNEL`, and one line in `CHANNELS`.

The functions below are what the webhook, the jobs and the CLI call: each finds the channel by
its name and asks it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from services.orders.adapters.platforms import (
    lazada,
    manual,
    shopee,
    shopify,
    tiki,
    tiktok_shop,
    woocommerce,
)
from services.orders.adapters.platforms.base import DEFAULT_TIMEOUT_S, PlatformClient, Unsupported
from services.orders.adapters.platforms.channel import Account, Channel, Push, guard
from services.orders.domain.errors import InvalidOrderPayload
from services.orders.domain.model import CanonicalOrder, order_id_for

__all__ = ["CHANNELS", "Account", "Channel", "Channels", "Push"]


class Channels:
    """Channels by name (shared/contracts/platforms.py)."""

    def __init__(self, *channels: Channel) -> None:
        self._by_name: dict[str, Channel] = {}
        for channel in channels:
            self.register(channel)

    def register(self, channel: Channel) -> None:
        if channel.name in self._by_name:
            raise ValueError(f"channel {channel.name!r} is registered already")
        self._by_name[channel.name] = channel

    def unregister(self, name: str) -> None:
        del self._by_name[name]

    def get(self, name: str) -> Channel | None:
        return self._by_name.get(name)

    def pushing(self, name: str) -> Channel | None:
        """The channel that sends webhooks under this name, if any."""
        channel = self._by_name.get(name)
        return channel if channel is not None and channel.pushes else None

    def __iter__(self) -> Iterator[Channel]:
        return iter(self._by_name.values())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)


CHANNELS = Channels(
    shopify.CHANNEL,
    woocommerce.CHANNEL,
    shopee.CHANNEL,
    lazada.CHANNEL,
    tiktok_shop.CHANNEL,
    tiki.CHANNEL,
    manual.CHANNEL,
)


def verify(account: Account, body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether the push is signed by the platform with one of the account's secrets."""
    channel = CHANNELS.get(account.platform)
    return channel is not None and channel.verify(account, body, headers)


def read_push(account: Account, payload: Any, headers: Mapping[str, str]) -> Push:
    """What a verified push asks of us. Raises InvalidOrderPayload for a body it cannot use."""
    channel = CHANNELS.get(account.platform)
    if channel is None:
        raise InvalidOrderPayload(f"{account.platform} has no pushes")
    if not isinstance(payload, Mapping):
        raise InvalidOrderPayload("the body must be a JSON object")
    return guard(lambda: channel.read_push(account, payload, headers))


def full_push_order_id(channel: Channel, account: str, payload: Mapping[str, Any]) -> str | None:
    """The order id a full push will have, from its platform id alone (None if it has no usable
    one: reading the push then rejects it). Lets a queued push be logged and answered with it."""
    try:
        external_id = channel.external_id(payload)
    except InvalidOrderPayload:
        return None
    return order_id_for(channel.name, account, external_id)


def parse_detail(platform: str, detail: Any, account: str) -> CanonicalOrder:
    """The canonical order from a fetched order detail (or a full push body)."""
    channel = CHANNELS.get(platform)
    if channel is None:
        raise InvalidOrderPayload(f"no order parser for {platform}")
    return guard(lambda: channel.parse_detail(detail, account))


def normalize(
    platform: str,
    payload: Any,
    headers: Mapping[str, str],
    detail: Any | None,
    account: str,
    now: datetime,
) -> CanonicalOrder:
    """What `ovop orders normalize` prints: the push (and fetched detail) as a canonical order."""
    channel = CHANNELS.get(platform)
    if channel is None:
        raise InvalidOrderPayload(f"{platform} has no pushes")
    return channel.normalize(payload, headers, detail, account, now)


def client_for(
    account: Account, http: httpx.AsyncClient, timeout_s: float = DEFAULT_TIMEOUT_S
) -> PlatformClient:
    """The account's API client, each call allowed `timeout_s`."""
    channel = CHANNELS.get(account.platform)
    if channel is None:
        raise Unsupported(f"no API client for {account.platform}")
    return channel.client(account, http, timeout_s)
