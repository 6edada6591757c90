"""JSON logs with structlog. Per-message context (correlation_id, order_id, ...) is bound with
`structlog.contextvars`, and personal data is masked before anything is written."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from structlog.typing import Processor

from shared.phones import mask_phone

# A phone number in free text: 9 to 15 digits standing alone (not inside an id or a timestamp).
_PHONE = re.compile(r"(?<![\w:.-])\+?\d{9,15}(?![\w:.-])")
_PHONE_KEYS = {"phone", "to", "recipient", "recipient_phone"}
_ADDRESS_KEYS = {"address", "shipping_address", "billing_address", "line1", "line2", "street"}


def _mask(value: Any, key: str | None = None) -> Any:
    if key in _ADDRESS_KEYS:
        return "***"
    if isinstance(value, dict):
        return {k: _mask(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v, key) for v in value]
    if not isinstance(value, str):
        return value
    if key in _PHONE_KEYS:
        return mask_phone(value)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), value)


def mask_personal_data(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    return {k: _mask(v, k) for k, v in event_dict.items()}


class _CurrentStdout:
    """Writes to whatever sys.stdout is now, so a redirected or replaced stdout (pytest's
    capture, a supervisor) never leaves the loggers holding a closed file."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def configure_logging(service: str, level: str = "INFO") -> None:
    """structlog for our code; the standard library's records (uvicorn, aiokafka, FastStream) go
    through the same processors, so every line a service writes is JSON."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    render: list[Processor] = [
        structlog.processors.format_exc_info,
        mask_personal_data,
        structlog.processors.JSONRenderer(ensure_ascii=False),
    ]
    handler = logging.StreamHandler(_CurrentStdout())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *render],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.configure(
        processors=[*shared, *render],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStdout()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
