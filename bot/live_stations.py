"""Keeps one station index in step with the database.

Station imports bump the same version counter as knowledge edits, so the grid
is rebuilt once per version (at most every `refresh_seconds` a cheap version
read), never per request.
"""
from __future__ import annotations

import logging
import threading
import time

from knowledge.model import Station
from knowledge.station_files import EXAMPLE_FILE, load_station_file
from knowledge.stations import StationIndex

from .repositories import Repositories

log = logging.getLogger(__name__)


class LiveStations:
    def __init__(self, repos: Repositories, refresh_seconds: float = 3.0):
        self.repos = repos
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._index: StationIndex | None = None
        self._checked_at = 0.0

    def rebuild(self) -> StationIndex:
        version = self.repos.knowledge.version()
        index = StationIndex(self.repos.stations.active(), version=version)
        log.info("stations indexed: version=%s stations=%d", version, len(index))
        self._index = index
        self._checked_at = time.monotonic()
        return index

    @property
    def index(self) -> StationIndex:
        """The current index; rebuilt if the database moved on since the last check."""
        index = self._index
        if index is None:
            with self._lock:
                return self._index or self.rebuild()
        if time.monotonic() - self._checked_at >= self.refresh_seconds:
            with self._lock:
                self._checked_at = time.monotonic()
                if self.repos.knowledge.version() != index.version:
                    return self.rebuild()
        return index

    def invalidate(self) -> StationIndex:
        with self._lock:
            return self.rebuild()


def load_examples_if_empty(repos: Repositories) -> int:
    """First start: the example stations, so the finder can be tried before real data exists."""
    if repos.stations.count():
        return 0
    parsed = load_station_file(EXAMPLE_FILE)
    if parsed.errors:
        log.warning("example stations not loaded: %s", "; ".join(str(p) for p in parsed.errors))
        return 0
    stations = [Station(**{**s.__dict__, "is_example": True}) for s in parsed.stations]
    return repos.stations.seed_if_empty(stations, actor="examples")
