"""Sending rules: categories, Decree 91/2020 for advertising, opt-out keywords. Pure, no I/O.

Order, pickup and delivery alerts are customer care ("transactional") and are not limited. A
promotional line makes a message advertising, which Decree 91/2020/ND-CP allows only between
07:00 and 22:00 local time, at most 3 per number in 24 hours, labelled "[QC]" and carrying
opt-out instructions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

AD_LABEL = "[QC] "
AD_FIRST_HOUR = time(7, 0)
AD_LAST_HOUR = time(22, 0)
AD_MAX_PER_24H = 3
AD_OPT_OUT = {
    "vi": " Tu choi QC: soan TC gui {sender}",
    "en": " Reply STOP to {sender} to opt out",
}
OPT_OUT_KEYWORDS = frozenset({"STOP", "HUY", "HỦY", "TC", "UNSUBSCRIBE", "STOPALL", "CANCEL"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "DK", "DANGKY"})


def advertising_text(text: str, language: str, sender: str) -> str:
    """The `[QC]` label in front and the opt-out instructions at the end (Decree 91)."""
    opt_out = AD_OPT_OUT.get(language, AD_OPT_OUT["en"]).format(sender=sender)
    body = text if text.startswith(AD_LABEL) else AD_LABEL + text
    return body if body.endswith(opt_out) else body + opt_out


@dataclass(frozen=True, slots=True)
class AdDecision:
    """send_at: when an advertising message may go (now, or the next 07:00); None: not at all
    (the number already had its 3 in 24 h)."""

    send_at: datetime | None
    reason: str | None = None


def advertising_allowed(now: datetime, tz: str, sent_last_24h: int) -> AdDecision:
    """Whether an advertising SMS may go at `now` to a number that had `sent_last_24h` already."""
    if sent_last_24h >= AD_MAX_PER_24H:
        return AdDecision(None, "decree91_daily_limit")
    local = now.astimezone(ZoneInfo(tz))
    if AD_FIRST_HOUR <= local.time() < AD_LAST_HOUR:
        return AdDecision(now)
    day = local.date() if local.time() < AD_FIRST_HOUR else local.date() + timedelta(days=1)
    opens = datetime.combine(day, AD_FIRST_HOUR, tzinfo=ZoneInfo(tz))
    return AdDecision(opens, "decree91_quiet_hours")


def parse_keyword(body: str) -> Literal["opt_out", "opt_in"] | None:
    """What an inbound SMS asks for: its first word, case and accents aside."""
    words = body.strip().upper().split()
    if not words:
        return None
    first = words[0].strip(".!")
    if first in OPT_OUT_KEYWORDS:
        return "opt_out"
    if first in OPT_IN_KEYWORDS:
        return "opt_in"
    return None
