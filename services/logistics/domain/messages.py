"""The planner's own messages on `logistics.planning.v1`, keyed by hub: whichever replica owns a
hub's partition owns that hub's planning state, so replicas split the hubs through Kafka's
partition assignment. Internal: partners never see them."""

from __future__ import annotations

from typing import ClassVar

from shared.contracts.envelope import Event

PLANNING = "logistics.planning.v1"


class _HubKeyed(Event):
    topic: ClassVar[str] = PLANNING

    hub_id: str

    def key(self) -> str:
        return self.hub_id


class ParcelQueued(_HubKeyed):
    """A shipment waits for a place in its hub's wave (`announce`: tell the producer)."""

    event_type: ClassVar[str] = "ParcelQueued"

    wave_id: str
    shipment_id: str
    announce: bool = True


class ParcelWithdrawn(_HubKeyed):
    """A cancelled shipment leaves its wave's plan."""

    event_type: ClassVar[str] = "ParcelWithdrawn"

    wave_id: str
    shipment_id: str


class WaveCutoffReached(_HubKeyed):
    """Plan the wave now: no further parcel joins it."""

    event_type: ClassVar[str] = "WaveCutoffReached"

    wave_id: str
