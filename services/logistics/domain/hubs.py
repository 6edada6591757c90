"""The demo network: consolidation hubs near the demo producers, with the default partner fleet
and waves. Operators replace it through the API or `ovop logistics hub-set`; a configured hubs
file (`LogisticsSettings.hubs_file`) seeds an empty network instead of the demo."""

from __future__ import annotations

import json

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
    # Within a morning's drive of every demo producer (tests/logistics checks it): a 35 km/h
    # mountain road does not reach a village 250 km away inside a pickup window.
    Hub("HUB-YENBAI", "Yên Bái hub", 21.7229, 104.9113, "Asia/Ho_Chi_Minh"),
    Hub("HUB-CAOBANG", "Cao Bằng hub", 22.6657, 106.2570, "Asia/Ho_Chi_Minh"),
    Hub("HUB-LANGSON", "Lạng Sơn hub", 21.8537, 106.7615, "Asia/Ho_Chi_Minh"),
    Hub("HUB-DIENBIEN", "Điện Biên Phủ hub", 21.3860, 103.0230, "Asia/Ho_Chi_Minh"),
    Hub("HUB-MOCCHAU", "Mộc Châu hub", 20.8494, 104.6364, "Asia/Ho_Chi_Minh"),
    Hub("HUB-NINHBINH", "Ninh Bình hub", 20.2506, 105.9745, "Asia/Ho_Chi_Minh"),
    Hub("HUB-QUANGNGAI", "Quảng Ngãi hub", 15.1214, 108.8044, "Asia/Ho_Chi_Minh"),
    Hub("HUB-PLEIKU", "Pleiku hub", 13.9833, 108.0000, "Asia/Ho_Chi_Minh"),
    Hub("HUB-BUONMATHUOT", "Buôn Ma Thuột hub", 12.6667, 108.0500, "Asia/Ho_Chi_Minh"),
    Hub("HUB-DALAT", "Đà Lạt hub", 11.9404, 108.4583, "Asia/Ho_Chi_Minh"),
    Hub("HUB-PHETCHABURI", "Phetchaburi hub", 13.1119, 99.9398, "Asia/Bangkok"),
    Hub("HUB-TAKENGON", "Takengon hub", 4.6246, 96.8436, "Asia/Jakarta"),
    Hub("HUB-CIREBON", "Cirebon hub", -6.7063, 108.5570, "Asia/Jakarta"),
    Hub("HUB-ILOILO", "Iloilo hub", 10.7202, 122.5621, "Asia/Manila"),
    Hub("HUB-KALIBO", "Kalibo hub", 11.7061, 122.3649, "Asia/Manila"),
)


def demo_network() -> list[HubConfig]:
    return [
        HubConfig(hub_id=h.hub_id, name=h.name, lat=h.lat, lon=h.lon, tz=h.tz) for h in DEMO_HUBS
    ]


def initial_network(hubs_json: str | None) -> list[HubConfig]:
    """The hubs of a hubs file's text (a JSON list of hub configurations), or the demo's."""
    if not hubs_json:
        return demo_network()
    return [HubConfig.model_validate(h) for h in json.loads(hubs_json)]
