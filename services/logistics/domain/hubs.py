"""The demo network: consolidation hubs near the demo producers, with the default partner fleet
and waves. Operators replace it through the API or `ovop logistics hub-set`; LOGISTICS_HUBS_FILE
(a JSON list of hub configurations) seeds an empty network instead of the demo."""

from __future__ import annotations

import json
import os
from pathlib import Path

from services.logistics.domain.config import HubConfig
from services.logistics.domain.network import Hub

DEMO_HUBS: tuple[Hub, ...] = (
    Hub("HUB-HAGIANG", "Hà Giang city hub", 22.8233, 104.9836, "Asia/Ho_Chi_Minh"),
    Hub("HUB-HANOI", "Hà Nội Long Biên hub", 21.0447, 105.8888, "Asia/Ho_Chi_Minh"),
    Hub("HUB-DANANG", "Đà Nẵng hub", 16.0544, 108.2022, "Asia/Ho_Chi_Minh"),
    Hub("HUB-HCMC", "Thủ Đức hub", 10.8494, 106.7537, "Asia/Ho_Chi_Minh"),
    Hub("HUB-PHUQUOC", "Phú Quốc Dương Đông hub", 10.2170, 103.9580, "Asia/Ho_Chi_Minh"),
    Hub("HUB-OITA", "Ōita hub", 33.2382, 131.6126, "Asia/Tokyo"),
    Hub("HUB-CHIANGMAI", "Chiang Mai hub", 18.7883, 98.9853, "Asia/Bangkok"),
)


def demo_network() -> list[HubConfig]:
    return [
        HubConfig(hub_id=h.hub_id, name=h.name, lat=h.lat, lon=h.lon, tz=h.tz) for h in DEMO_HUBS
    ]


def load_hubs(env: dict[str, str] | None = None) -> list[HubConfig]:
    path = (env if env is not None else os.environ).get("LOGISTICS_HUBS_FILE")
    if not path:
        return demo_network()
    return [HubConfig.model_validate(h) for h in json.loads(Path(path).read_text())]
