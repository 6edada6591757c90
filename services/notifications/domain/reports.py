"""Message status: the lifecycle, delivery-report mapping per provider, aggregation of the parts
of a long message, and Twilio's callback signature. Pure, no I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping

# QUEUED -> SENDING -> ACCEPTED | UNKNOWN | FAILED -> SENT -> DELIVERED | UNDELIVERED.
# SUPPRESSED (opted out) and FAILED before sending are final at once.
FINAL = frozenset({"DELIVERED", "UNDELIVERED", "FAILED", "SUPPRESSED"})
_RANK = {
    "QUEUED": 0,
    "RETRYING": 1,
    "SENDING": 2,
    "UNKNOWN": 3,
    "ACCEPTED": 4,
    "SENT": 5,
    "DELIVERED": 6,
    "UNDELIVERED": 6,
    "FAILED": 6,
    "SUPPRESSED": 6,
}


def advance(current: str, reported: str) -> str:
    """The status after a report: never backwards (a late "sent" after "delivered" is kept in
    the timeline only), and a final status is never replaced."""
    if current in FINAL or _RANK.get(reported, -1) <= _RANK.get(current, -1):
        return current
    return reported


TWILIO_STATES = {
    "queued": "ACCEPTED",
    "accepted": "ACCEPTED",
    "scheduled": "ACCEPTED",
    "sending": "ACCEPTED",
    "sent": "SENT",
    "delivered": "DELIVERED",
    "undelivered": "UNDELIVERED",
    "failed": "FAILED",
}
ESMS_STATES = {"5": "DELIVERED", "4": "UNDELIVERED", "7": "SENT"}
SPEEDSMS_STATES = {"0": "DELIVERED", "1": "UNDELIVERED", "2": "SENT"}


def aggregate_parts(segments: int, part_states: Mapping[int, str]) -> str | None:
    """A long message's status from its parts' reports: delivered once every part is, failed
    as soon as one part is; otherwise SENT while some reports are missing, None if none came."""
    if not part_states:
        return None
    states = list(part_states.values())
    for bad in ("UNDELIVERED", "FAILED"):
        if bad in states:
            return bad
    if len(part_states) >= segments and all(s == "DELIVERED" for s in states):
        return "DELIVERED"
    return "SENT"


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """base64 HMAC-SHA1 of the full URL followed by every POST parameter, sorted by name, as
    name+value; a repeated name contributes its distinct values in sorted order (as Twilio's
    own validators do)."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    payload = url + "".join(name + v for name in sorted(values) for v in sorted(values[name]))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], given: str | None
) -> bool:
    if not given:
        return False
    expected = twilio_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode(), given.encode())
