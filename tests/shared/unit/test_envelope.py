"""The envelope's fast paths give exactly what the validated, library forms give."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from shared.contracts.envelope import Envelope, traceparent
from shared.contracts.events import EVENTS
from shared.contracts.schemas import example_path


@given(st.text())
def test_the_trace_id_is_the_uuid5_of_the_correlation_id(correlation_id):
    trace_id = traceparent(correlation_id).split("-")[1]
    assert trace_id == uuid.uuid5(uuid.NAMESPACE_URL, correlation_id).hex


def test_a_wrapped_event_equals_its_validated_envelope_byte_for_byte():
    for event_type in EVENTS:
        event = event_type.model_validate_json(example_path(event_type).read_text())
        wrapped = Envelope.wrap(event, producer="orders", correlation_id="o-1", causation_id="c")
        validated = Envelope.model_validate(wrapped.model_dump())
        assert wrapped.to_bytes() == validated.to_bytes()
        assert Envelope.model_validate_json(wrapped.to_bytes()) == validated
