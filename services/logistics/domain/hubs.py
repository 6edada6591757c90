"""The demo network: consolidation hubs near the demo producers. Operators replace it through
configuration (LOGISTICS_HUBS_FILE, a JSON list of hubs)."""

from __future__ import annotations

import json
import os
from pathlib import Path

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


def load_hubs(env: dict[str, str] | None = None) -> tuple[Hub, ...]:
    path = (env if env is not None else os.environ).get("LOGISTICS_HUBS_FILE")
    if not path:
        return DEMO_HUBS
    return tuple(Hub(**h) for h in json.loads(Path(path).read_text()))
