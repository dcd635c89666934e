"""Nearest rest stations for a rider's location.

A rider shares a location and wants the few closest stations now; with up to
~10,000 stations a sort of everything per request would do needless work, so
stations are bucketed in a lat/lon grid and the grid is searched in growing
square rings around the rider, stopping as soon as no unvisited cell can hold
anything closer than what was already found. Built once per station-list
version and then read-only (safe to share between concurrent handlers).
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .model import Station

EARTH_RADIUS_KM = 6371.0088
DEFAULT_CELL_DEG = 0.05          # ~5.5 km north-south: a few stations per cell at city density


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Nearby:
    station: Station
    distance_km: float


class StationIndex:
    """A grid of stations for nearest-k queries (exact results, not approximate)."""

    def __init__(self, stations: Iterable[Station], cell_deg: float = DEFAULT_CELL_DEG, version: int = 0):
        if cell_deg <= 0:
            raise ValueError("cell_deg must be positive")
        self.version = version
        self.cell = cell_deg
        self.stations = [s for s in stations if s.active]
        self.by_id = {s.id: s for s in self.stations}
        self._cells: dict[tuple[int, int], list[Station]] = {}
        for s in self.stations:
            self._cells.setdefault(self._key(s.latitude, s.longitude), []).append(s)
        if self._cells:
            rows = [k[0] for k in self._cells]
            cols = [k[1] for k in self._cells]
            self._rows = (min(rows), max(rows))
            self._cols = (min(cols), max(cols))
        self.examined = 0            # distance computations in the last query (for tests/benchmarks)

    def __len__(self) -> int:
        return len(self.stations)

    def _key(self, lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / self.cell), math.floor(lon / self.cell)

    def in_district(self, district: str | None) -> list[Station]:
        """Stations of one district (all when None), real ones before examples, then by name."""
        items = [s for s in self.stations if district is None or s.district == district]
        return sorted(items, key=lambda s: (s.is_example, s.district or "", s.name, s.id))

    def nearest(self, latitude: float, longitude: float, k: int = 5,
                max_km: float | None = None) -> list[Nearby]:
        """The k closest stations (optionally within max_km), closest first."""
        self.examined = 0
        if k <= 0 or not self._cells:
            return []
        qi, qj = self._key(latitude, longitude)
        (rmin, rmax), (cmin, cmax) = self._rows, self._cols
        # Rings closer than the occupied area are empty: start at the first ring that touches it.
        start = max(0, rmin - qi, qi - rmax, cmin - qj, qj - cmax)
        last = max(qi - rmin, rmax - qi, qj - cmin, cmax - qj)
        found: list[Nearby] = []
        for ring in range(start, last + 1):
            for key in self._ring(qi, qj, ring, rmin, rmax, cmin, cmax):
                for s in self._cells.get(key, ()):
                    self.examined += 1
                    d = haversine_km(latitude, longitude, s.latitude, s.longitude)
                    if max_km is None or d <= max_km:
                        found.append(Nearby(s, d))
            if len(found) >= k:
                found.sort(key=lambda n: (n.distance_km, n.station.id))
                del found[k:]
                if found[-1].distance_km <= self._beyond_km(latitude, ring):
                    break
            elif max_km is not None and self._beyond_km(latitude, ring) > max_km:
                break
        found.sort(key=lambda n: (n.distance_km, n.station.id))
        return found[:k]

    def _ring(self, qi: int, qj: int, r: int, rmin: int, rmax: int, cmin: int, cmax: int):
        """Cells at Chebyshev distance exactly r from (qi, qj), clipped to the occupied box."""
        if r == 0:
            yield qi, qj
            return
        lo_j, hi_j = max(qj - r, cmin), min(qj + r, cmax)
        for i in (qi - r, qi + r):
            if rmin <= i <= rmax:
                for j in range(lo_j, hi_j + 1):
                    yield i, j
        for i in range(max(qi - r + 1, rmin), min(qi + r - 1, rmax) + 1):
            for j in (qj - r, qj + r):
                if cmin <= j <= cmax:
                    yield i, j

    def _beyond_km(self, latitude: float, ring: int) -> float:
        """A lower bound on the distance to any station outside rings 0..ring.

        Such a station differs by at least `ring` cells in latitude or in longitude. Along a
        meridian that is at least R·Δφ; across meridians, from the haversine formula,
        sin(d/2R) ≥ cos φmax · sin(Δλ/2) for both points within φmax of the equator.
        """
        if ring <= 0:
            return 0.0
        span = math.radians(ring * self.cell)
        north_south = EARTH_RADIUS_KM * span
        phi_max = min(math.radians(abs(latitude)) + span, math.pi / 2)
        across = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.cos(phi_max) * math.sin(min(span, math.pi) / 2)))
        return min(north_south, across)


def brute_force_nearest(stations: Iterable[Station], latitude: float, longitude: float, k: int = 5) -> list[Nearby]:
    """The reference the index is tested against."""
    items = [Nearby(s, haversine_km(latitude, longitude, s.latitude, s.longitude)) for s in stations if s.active]
    items.sort(key=lambda n: (n.distance_km, n.station.id))
    return items[:k]
