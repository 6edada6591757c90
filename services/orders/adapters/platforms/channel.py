"""What every sales channel answers, whatever its platform: how its orders arrive, how a push is
verified and read, how a fetched detail becomes a canonical order, and which API client talks to
it. One `Channel` object per platform (its package's `CHANNEL`); `registry.py` lists them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

import httpx
import pydantic_core
from pydantic_core import core_schema

from services.orders.domain.errors import InvalidOrderPayload
from services.orders.domain.model import CanonicalOrder
from services.orders.domain.signatures import verify_hmac_sha256_hex

if TYPE_CHECKING:
    from services.orders.adapters.platforms.base import PlatformClient

T = TypeVar("T")

# How a channel's orders reach us:
# - full_push: a webhook carrying the whole order, queued, then read by the apply job;
# - thin_push: a webhook naming the order, whose detail the fetch job gets from the API;
# - poll: no webhook, an event queue we pull, then the detail from the API;
# - operator: typed in by an operator (API, CSV), with no channel account.
Intake = Literal["full_push", "thin_push", "poll", "operator"]


@dataclass(frozen=True)
class Account:
    platform: str
    account: str
    secrets: Sequence[str]  # newest first; two during a rotation
    settings: Mapping[str, str] = field(default_factory=dict)  # app_key, callback_url, ...

    def get(self, key: str) -> str:
        return self.settings.get(key) or ""


@dataclass(frozen=True)
class Push:
    kind: Literal["order", "fetch", "ignored"]
    delivery_id: str
    external_id: str | None = None
    order: CanonicalOrder | None = None
    note: str | None = None
    topic: str | None = None  # the platform's name for what happened, kept with the delivery


@dataclass(frozen=True)
class Headers:
    """The names of a channel's webhook headers, lower-case as requests carry them."""

    signature: str | None = None
    topic: str | None = None
    delivery: tuple[str, ...] = ()  # the first one present names the delivery


class Channel:
    """One sales channel. The defaults are a channel with no pushes, no parser and no API
    client: a subclass sets `name`, `intake` and `headers`, and overrides what its platform
    does. Its methods never raise anything but InvalidOrderPayload (and PlatformError from its
    client's calls)."""

    name: ClassVar[str]
    intake: ClassVar[Intake]
    headers: ClassVar[Headers] = Headers()
    push_id_field: ClassVar[str] = "id"  # where a full push holds its platform order id

    def verify(self, account: Account, body: bytes, headers: Mapping[str, str]) -> bool:
        """Whether the push is signed by the platform with one of the account's secrets."""
        return False

    def is_ping(self, body: bytes) -> bool:
        """An unsigned hello the platform sends when a webhook is created (answered 200)."""
        return False

    def ignored_topic(self, headers: Mapping[str, str]) -> str | None:
        """Why a full push is not about an order, from its headers alone (None: it may be)."""
        return None

    def push_head(self, body: bytes) -> dict[str, Any]:
        """A full push checked to be one JSON object, with only its id field built into Python
        objects: all the webhook reads before queueing it. Raises pydantic_core.ValidationError
        (`json_invalid` for a body that is not JSON)."""
        return _head_validator(self.push_id_field).validate_json(body)

    def external_id(self, payload: Mapping[str, Any]) -> str:
        """A full push's platform order id, read as its parser reads it."""
        raise InvalidOrderPayload(f"{self.name} pushes no whole orders")

    def read_push(
        self, account: Account, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Push:
        """What a verified push asks of us. Raises InvalidOrderPayload for a body it cannot use."""
        raise InvalidOrderPayload(f"{self.name} has no pushes")

    def parse_detail(self, detail: Any, account: str) -> CanonicalOrder:
        """The canonical order from a fetched order detail (or a full push body)."""
        raise InvalidOrderPayload(f"no order parser for {self.name}")

    def normalize(
        self,
        payload: Any,
        headers: Mapping[str, str],
        detail: Any | None,
        account: str,
        now: datetime,
    ) -> CanonicalOrder:
        """What `ovop orders normalize` prints: the push (and detail) as a canonical order."""
        if self.intake != "full_push":
            if detail is None:
                raise InvalidOrderPayload(f"{self.name} pushes are thin: give --detail <file>")
            return guard(lambda: self.parse_detail(detail, account))
        if not isinstance(payload, Mapping):
            raise InvalidOrderPayload("the body must be a JSON object")
        push = guard(lambda: self.read_push(Account(self.name, account, ()), payload, headers))
        if push.order is None:
            raise InvalidOrderPayload(f"not an order: {push.note}")
        return push.order

    def client(self, account: Account, http: httpx.AsyncClient, timeout_s: float) -> PlatformClient:
        """The API client that fetches details and pushes stock (Unsupported if none)."""
        from services.orders.adapters.platforms.base import Unsupported

        raise Unsupported(f"no API client for {self.name}")

    @property
    def pushes(self) -> bool:
        """Whether it sends webhooks to `POST /webhooks/{platform}/{account}`."""
        return self.intake in ("full_push", "thin_push")

    @property
    def has_accounts(self) -> bool:
        """Whether its orders come through channel accounts (secrets, API credentials)."""
        return self.intake != "operator"

    def topic(self, headers: Mapping[str, str]) -> str | None:
        return headers.get(self.headers.topic) if self.headers.topic else None

    def delivery(self, headers: Mapping[str, str]) -> str | None:
        """The platform's delivery id, from the first of its delivery headers present."""
        return next((headers[h] for h in self.headers.delivery if headers.get(h)), None)

    def signature(self, headers: Mapping[str, str]) -> str | None:
        return headers.get(self.headers.signature) if self.headers.signature else None


@cache
def _head_validator(id_field: str) -> pydantic_core.SchemaValidator:
    return pydantic_core.SchemaValidator(
        core_schema.typed_dict_schema(
            {id_field: core_schema.typed_dict_field(core_schema.any_schema(), required=False)},
            extra_behavior="ignore",
        )
    )


def verify_prefixed_hex(prefix: str, account: Account, body: bytes, signature: str | None) -> bool:
    """A hex HMAC-SHA256 of `prefix` + the raw body, as the Asian marketplaces sign pushes."""
    return verify_hmac_sha256_hex(prefix.encode() + body, signature, list(account.secrets))


def guard(fn: Callable[[], T]) -> T:
    """A parser's unexpected error on strange input is still a payload problem, never a crash."""
    try:
        return fn()
    except InvalidOrderPayload:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        raise InvalidOrderPayload(f"unusable payload: {type(exc).__name__}: {exc}") from None
