import json
from typing import ClassVar

import pytest
from pydantic import BaseModel

from shared.contracts.envelope import Event
from shared.contracts.events import EVENTS
from shared.contracts.schemas import current_schema, example_path, incompatibilities, schema_path


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.event_type)
def test_checked_in_schema_matches_the_event_model(event: type[Event]) -> None:
    path = schema_path(event)
    assert path.exists(), f"{path} missing: run python -m shared.contracts.schemas"
    checked_in = json.loads(path.read_text())
    current = current_schema(event)
    assert incompatibilities(checked_in, current) == [], "incompatible: publish a .v2 topic"
    assert checked_in == current, (
        "compatible change not exported: run python -m shared.contracts.schemas"
    )


class _Inner(BaseModel):
    sku: str
    quantity: int


class _V1(Event):
    event_type: ClassVar[str] = "Thing"
    topic: ClassVar[str] = "test.thing.v1"
    order_id: str
    lines: list[_Inner]
    note: str | None = None


def test_adding_an_optional_field_is_compatible() -> None:
    class V(_V1):
        extra: str | None = None

    assert incompatibilities(current_schema(_V1), current_schema(V)) == []


def test_removing_a_field_is_incompatible() -> None:
    old = current_schema(_V1)
    new = json.loads(json.dumps(old))
    del new["properties"]["note"]
    assert incompatibilities(old, new) == ["$.note: removed"]


def test_a_new_required_field_is_incompatible() -> None:
    class V(_V1):
        hub: str

    assert incompatibilities(current_schema(_V1), current_schema(V)) == ["$.hub: became required"]


def test_changing_a_nested_type_is_incompatible() -> None:
    class Inner2(BaseModel):
        sku: str
        quantity: str

    class V(_V1):
        lines: list[Inner2]  # type: ignore[assignment]

    assert incompatibilities(current_schema(_V1), current_schema(V)) == [
        "$.lines[].quantity: type changed"
    ]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.event_type)
def test_the_example_message_matches_the_checked_in_schema_and_the_model(
    event: type[Event],
) -> None:
    """Partners build on the examples: they must stay valid under the published schema."""
    import jsonschema

    example = json.loads(example_path(event).read_text())
    jsonschema.validate(example, json.loads(schema_path(event).read_text()))
    assert event.model_validate(example).model_dump(mode="json") == example
