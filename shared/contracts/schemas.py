"""JSON Schema of every event, exported into the repo, and the compatibility rule between a
checked-in schema and the current model.

Within a topic version a change is compatible when a consumer built against the old schema still
reads new messages and a new consumer still reads old ones: no property is removed or changes type,
and no property becomes required. Anything else needs a `.v2` topic.

Run `python -m shared.contracts.schemas` to (re)write the files after a compatible change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import EVENTS

SCHEMA_DIR = Path(__file__).parent / "schemas"
EXAMPLE_DIR = Path(__file__).parent / "examples"


def schema_path(event: type[Event]) -> Path:
    return SCHEMA_DIR / event.topic / f"{event.event_type}.v{event.event_version}.schema.json"


def example_path(event: type[Event]) -> Path:
    """A realistic message of the event, kept beside its schema for partners and tests."""
    return EXAMPLE_DIR / event.topic / f"{event.event_type}.v{event.event_version}.json"


def current_schema(event: type[Event]) -> dict[str, Any]:
    schema = event.model_json_schema(mode="serialization")
    schema["$id"] = f"urn:ovop:{event.topic}:{event.event_type}:v{event.event_version}"
    schema["x-topic"] = event.topic
    schema["x-event-type"] = event.event_type
    return schema


def export() -> list[Path]:
    written = []
    for event in EVENTS:
        path = schema_path(event)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(current_schema(event), indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    envelope = SCHEMA_DIR / "envelope.schema.json"
    envelope.write_text(json.dumps(Envelope.model_json_schema(), indent=2) + "\n")
    return [*written, envelope]


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return _resolve(root["$defs"][ref.removeprefix("#/$defs/")], root)
    return schema


def _type_of(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        return sorted(json.dumps(_type_of(s, root), sort_keys=True) for s in schema["anyOf"])
    if schema.get("type") == "object" or "properties" in schema:
        return "object"
    if schema.get("type") == "array":
        return ["array", _type_of(schema.get("items", {}), root)]
    return schema.get("type", schema.get("const", schema.get("enum")))


def incompatibilities(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """What in `new` breaks readers or writers of `old` (empty when compatible)."""
    return _compare(old, new, old, new, path or "$")


def _compare(old, new, old_root, new_root, path: str) -> list[str]:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    problems: list[str] = []
    if _type_of(old, old_root) != _type_of(new, new_root) and not _only_object(old, new):
        return [f"{path}: type changed"]
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, sub in old_props.items():
        if name not in new_props:
            problems.append(f"{path}.{name}: removed")
        else:
            problems += _compare(sub, new_props[name], old_root, new_root, f"{path}.{name}")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"{path}.{name}: became required")
    if old.get("type") == "array":
        problems += _compare(
            old.get("items", {}), new.get("items", {}), old_root, new_root, f"{path}[]"
        )
    return problems


def _only_object(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return "properties" in old and "properties" in new


if __name__ == "__main__":
    for p in export():
        print(p.relative_to(Path.cwd()) if p.is_relative_to(Path.cwd()) else p, file=sys.stdout)
