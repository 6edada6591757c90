"""The AsyncAPI document of the logistics partner contract, generated from the event models.

`python -m services.logistics.asyncapi` rewrites docs/asyncapi/logistics.yaml; a test fails when
the checked-in file differs from what the models generate.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from shared.contracts.envelope import Envelope, Event
from shared.contracts.logistics import (
    SHIPMENT_EVENTS,
    CarrierStatusReported,
    PickupCancelled,
    PickupPlanned,
    PickupRescheduled,
    PickupScheduled,
)
from shared.contracts.parts import PICKUPS, SHIPMENTS, TRACKING
from shared.contracts.topics import TOPICS

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi" / "logistics.yaml"
REF = "#/components/schemas/{model}"
CHANNELS: dict[str, tuple[str, tuple[type[Event], ...], str]] = {
    PICKUPS: ("send", (PickupPlanned, PickupScheduled, PickupRescheduled, PickupCancelled),
              "Pickup plans (keyed by hub) and each producer's pickup window (keyed by shipment)."),
    SHIPMENTS: ("send", SHIPMENT_EVENTS,
                "The shipment status stream, keyed by shipment id, with the carrier's raw code."),
    TRACKING: ("receive", (CarrierStatusReported,),
               "Carriers with Kafka report status updates here (others: POST "
               "/partners/{partner}/events, signed X-OVOP-Signature: sha256=<hex HMAC>)."),
}  # fmt: skip


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="serialization", ref_template=REF)
    for name, sub in schema.pop("$defs", {}).items():
        schemas[name] = sub
    return schema


def document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    partitions = {t.name: t.partitions for t in TOPICS}
    envelope = _schema(Envelope, schemas)
    envelope["properties"].pop("payload")
    schemas["Envelope"] = envelope
    for topic, (action, events, description) in CHANNELS.items():
        refs = {}
        for event in events:
            schemas[event.__name__] = _schema(event, schemas)
            messages[event.event_type] = {
                "name": event.event_type,
                "title": event.event_type,
                "summary": (event.__doc__ or event.event_type).strip().splitlines()[0],
                "contentType": "application/json",
                "headers": {
                    "type": "object",
                    "properties": {h: {"type": "string"} for h in (
                        "event_type", "event_version", "event_id", "correlation_id",
                        "traceparent")},
                },
                "payload": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Envelope"},
                        {
                            "type": "object",
                            "properties": {
                                "event_type": {"const": event.event_type},
                                "payload": {"$ref": f"#/components/schemas/{event.__name__}"},
                            },
                        },
                    ]
                },
                "bindings": {"kafka": {"key": {"type": "string"}}},
            }
            refs[event.event_type] = {"$ref": f"#/components/messages/{event.event_type}"}
        channels[topic] = {
            "address": topic,
            "description": description,
            "messages": refs,
            "bindings": {"kafka": {"topic": topic, "partitions": partitions[topic]}},
        }
        operations[f"{action}_{topic.replace('.', '_')}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [{"$ref": f"#/channels/{topic}/messages/{m}"} for m in refs],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "OVOP logistics: pickups and the shipment status stream",
            "version": "1.0.0",
            "description": (
                "The public contract for logistics partners. Every message is an envelope whose "
                "`payload` is the event; within a topic version only optional fields are added. "
                "Generated from shared/contracts by services/logistics/asyncapi.py."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def render() -> str:
    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)


def main() -> int:
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
