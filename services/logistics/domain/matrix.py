"""Distances and travel times between points. The default is the great-circle distance times a
road factor (rural roads wind), at an average speed; an OSRM server can replace it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True)
class Matrix:
    """Square matrices in metres and seconds; index 0 is the hub."""

    distance_m: np.ndarray
    duration_s: np.ndarray

    def distance(self, i: int, j: int) -> int:
        return int(self.distance_m[i, j])

    def duration(self, i: int, j: int) -> int:
        return int(self.duration_s[i, j])

    @property
    def size(self) -> int:
        return int(self.distance_m.shape[0])


class MatrixProvider(Protocol):
    async def matrix(self, points: Sequence[tuple[float, float]]) -> Matrix: ...


def haversine_matrix(
    points: Sequence[tuple[float, float]], road_factor: float = 1.4, speed_kmh: float = 35.0
) -> Matrix:
    lat = np.radians(np.array([p[0] for p in points], dtype=float))
    lon = np.radians(np.array([p[1] for p in points], dtype=float))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))) * road_factor
    distance = np.rint(metres).astype(np.int64)
    duration = np.rint(metres / (speed_kmh / 3.6)).astype(np.int64)
    return Matrix(distance, duration)


@dataclass(frozen=True)
class HaversineProvider:
    road_factor: float = 1.4
    speed_kmh: float = 35.0

    async def matrix(self, points: Sequence[tuple[float, float]]) -> Matrix:
        return self.compute(points)

    def compute(self, points: Sequence[tuple[float, float]]) -> Matrix:
        return haversine_matrix(points, self.road_factor, self.speed_kmh)


def has_coordinates(lat: float | None, lon: float | None) -> bool:
    """(0, 0) and non-numbers are what a producer without a position arrives with."""
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    return (lat, lon) != (0.0, 0.0) and -90 <= lat <= 90 and -180 <= lon <= 180
