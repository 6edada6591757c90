"""Notifications domain: SMS encoding, producer alert rendering and phone numbers. Pure, no I/O."""

from services.notifications.domain.encoding import (
    SmsEncoding,
    count_segments,
    fold_vietnamese,
    is_gsm7,
    replace_non_gsm,
    septet_length,
)
from services.notifications.domain.messages import (
    ProducerAlertLine,
    RenderedSms,
    render_new_order_alert,
)

__all__ = [
    "ProducerAlertLine",
    "RenderedSms",
    "SmsEncoding",
    "count_segments",
    "fold_vietnamese",
    "is_gsm7",
    "render_new_order_alert",
    "replace_non_gsm",
    "septet_length",
]
