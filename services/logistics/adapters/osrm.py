"""A MatrixProvider over an OSRM-compatible `/table/v1/driving/` service, for operators who run
one (real road distances and times). Coordinates go as lon,lat."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import numpy as np

from services.logistics.domain.matrix import Matrix


class OsrmError(RuntimeError):
    pass


class OsrmProvider:
    def __init__(self, base_url: str, *, profile: str = "driving", timeout_s: float = 10.0):
        self._base = base_url.rstrip("/")
        self._profile = profile
        self._timeout = timeout_s

    async def matrix(self, points: Sequence[tuple[float, float]]) -> Matrix:
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        url = f"{self._base}/table/v1/{self._profile}/{coords}"
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            resp = await client.get(url, params={"annotations": "distance,duration"})
        if resp.status_code != 200:
            raise OsrmError(f"OSRM answered {resp.status_code}: {resp.text[:200]}")
        body = resp.json()
        if body.get("code") != "Ok":
            raise OsrmError(f"OSRM: {body.get('code')}: {body.get('message')}")
        distance = _matrix(body["distances"])
        duration = _matrix(body["durations"])
        return Matrix(distance, duration)


def _matrix(rows) -> np.ndarray:
    # OSRM gives null where no route exists: make that pair prohibitively long, not a crash.
    values = np.array([[1e9 if v is None else v for v in row] for row in rows], dtype=float)
    return np.rint(values).astype(np.int64)
