"""The AsyncAPI document is generated from the contract models and checked in."""

from __future__ import annotations

import yaml

from services.logistics.asyncapi import DOCUMENT, document, render


def test_the_checked_in_asyncapi_document_is_the_generated_one():
    assert DOCUMENT.read_text() == render(), "run: python -m services.logistics.asyncapi"


def test_every_reference_in_the_document_resolves():
    doc = document()
    yaml.safe_load(render())  # valid YAML

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    target = doc
                    for part in value.removeprefix("#/").split("/"):
                        target = target[part]
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(doc)
    assert set(doc["channels"]) == {
        "logistics.pickup.v1", "logistics.shipment.v1", "logistics.tracking.v1"}
    shipped = doc["components"]["schemas"]["ShipmentDelivered"]["properties"]
    assert {"cod_amount", "carrier_status"} <= set(shipped)
