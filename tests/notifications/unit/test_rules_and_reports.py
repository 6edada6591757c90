"""Decree 91, opt-out keywords, the status lifecycle, part aggregation and Twilio signatures."""

from datetime import UTC, datetime

import pytest

from services.notifications.domain.reports import (
    advance,
    aggregate_parts,
    twilio_signature,
    twilio_signature_valid,
)
from services.notifications.domain.rules import (
    advertising_allowed,
    advertising_text,
    parse_keyword,
)

HANOI = "Asia/Ho_Chi_Minh"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]


def test_twilio_signature_matches_twilios_published_vector():
    assert twilio_signature("12345", URL, PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_signature("12345", URL, reversed(PARAMS)) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_twilio_signature_of_repeated_parameters_matches_twilios_validators():
    repeated = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
        ("Digits", "1234"),
    ]
    assert twilio_signature("12345", URL, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_a_forged_or_tampered_twilio_signature_is_invalid():
    good = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_signature_valid("12345", URL, PARAMS, good)
    assert not twilio_signature_valid("54321", URL, PARAMS, good)
    assert not twilio_signature_valid("12345", URL + "&x=1", PARAMS, good)
    assert not twilio_signature_valid("12345", URL, [*PARAMS[:-1], ("To", "+1")], good)
    assert not twilio_signature_valid("12345", URL, PARAMS, None)
    assert not twilio_signature_valid("12345", URL, PARAMS, "")


@pytest.mark.parametrize(
    ("current", "reported", "expected"),
    [
        ("ACCEPTED", "SENT", "SENT"),
        ("SENT", "DELIVERED", "DELIVERED"),
        ("DELIVERED", "SENT", "DELIVERED"),
        ("DELIVERED", "UNDELIVERED", "DELIVERED"),
        ("UNKNOWN", "DELIVERED", "DELIVERED"),
        ("SENDING", "ACCEPTED", "ACCEPTED"),
        ("FAILED", "DELIVERED", "FAILED"),
        ("SENT", "ACCEPTED", "SENT"),
    ],
)
def test_status_only_moves_forward_and_final_states_stay(current, reported, expected):
    assert advance(current, reported) == expected


def test_parts_aggregate_to_one_status_per_message():
    assert aggregate_parts(3, {}) is None
    assert aggregate_parts(3, {1: "DELIVERED", 2: "DELIVERED"}) == "SENT"
    assert aggregate_parts(3, {1: "DELIVERED", 2: "DELIVERED", 3: "DELIVERED"}) == "DELIVERED"
    assert aggregate_parts(3, {1: "DELIVERED", 3: "UNDELIVERED"}) == "UNDELIVERED"
    assert aggregate_parts(2, {1: "SENT", 2: "DELIVERED"}) == "SENT"


@pytest.mark.parametrize(
    ("utc_hour", "allowed"),
    [(0, True), (14, True), (14.99, True), (15, False), (23, False), (23.99, False)],
)  # Hanoi is UTC+7: 07:00 local is 00:00 UTC, 22:00 local is 15:00 UTC; 23:59 UTC is 06:59
def test_advertising_only_between_seven_and_ten_pm_local(utc_hour, allowed):
    hour, minute = int(utc_hour), int(round((utc_hour % 1) * 60))
    now = datetime(2026, 11, 30, hour, minute, tzinfo=UTC)
    decision = advertising_allowed(now, HANOI, 0)
    assert (decision.send_at == now) is allowed
    if not allowed:
        assert decision.reason == "decree91_quiet_hours"
        local = decision.send_at.astimezone(__import__("zoneinfo").ZoneInfo(HANOI))
        assert (local.hour, local.minute) == (7, 0) and decision.send_at > now


def test_at_most_three_advertising_messages_per_number_in_24_hours():
    noon = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)
    assert advertising_allowed(noon, HANOI, 2).send_at == noon
    refused = advertising_allowed(noon, HANOI, 3)
    assert (refused.send_at, refused.reason) == (None, "decree91_daily_limit")


def test_advertising_is_labelled_and_carries_opt_out_text_once():
    text = advertising_text("Giam 10% hom nay", "vi", "OVOP")
    assert text == "[QC] Giam 10% hom nay Tu choi QC: soan TC gui OVOP"
    assert advertising_text(text, "vi", "OVOP") == text
    assert advertising_text("Sale", "ja", "OVOP").endswith("Reply STOP to OVOP to opt out")


@pytest.mark.parametrize(
    ("body", "action"),
    [
        ("STOP", "opt_out"),
        ("huy", "opt_out"),
        ("Hủy", "opt_out"),
        (" tc ", "opt_out"),
        ("stop.", "opt_out"),
        ("START", "opt_in"),
        ("DK", "opt_in"),
        ("hello", None),
        ("", None),
        ("Please stop", None),
    ],
)
def test_inbound_keywords(body, action):
    assert parse_keyword(body) == action
