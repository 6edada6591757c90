import json

import structlog

from shared.logging import configure_logging, mask_personal_data


def test_phone_fields_and_phones_in_free_text_are_masked() -> None:
    event = mask_personal_data(
        None,
        "info",
        {"to": "+84912345678", "event": "called 0912345678 about the honey", "phone": "0912345678"},
    )
    assert event == {
        "to": "+8491*****78",
        "event": "called 09******78 about the honey",
        "phone": "09******78",
    }


def test_addresses_are_hidden_whole() -> None:
    event = mask_personal_data(None, "info", {"address": {"line1": "12 phố Hàng Bạc"}})
    assert event == {"address": "***"}


def test_ids_timestamps_and_amounts_are_left_alone() -> None:
    untouched = {
        "order_id": "cd082790-2f6e-5b8d-8daf-745ccb700e0f",
        "timestamp": "2026-11-28T13:53:47.970142Z",
        "external_id": "7340000000000000001",
        "total": 900000,
    }
    masked = mask_personal_data(None, "info", dict(untouched))
    assert masked["order_id"] == untouched["order_id"]
    assert masked["timestamp"] == untouched["timestamp"]
    assert masked["total"] == 900000
    # A bare 19-digit number is an id, not a phone (phones have at most 15 digits).
    assert masked["external_id"] == untouched["external_id"]


def test_logs_are_json_with_the_bound_correlation_id_and_masked_phones(capsys) -> None:
    configure_logging("orders")
    structlog.contextvars.bind_contextvars(correlation_id="journey-1", order_id="o-1")
    structlog.get_logger("t").info("sms.recorded", to="+84912000101")
    structlog.contextvars.clear_contextvars()
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["correlation_id"] == "journey-1" and line["order_id"] == "o-1"
    assert line["service"] == "orders" and line["to"] == "+8491*****01"
    assert line["event"] == "sms.recorded" and line["level"] == "info"
