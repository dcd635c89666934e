"""Callback data for inline buttons: short prefixes, always within Telegram's 64 bytes.

Why refs: FAQ and station ids are usually short enough to travel as they are;
a long one is sent as a stable hash of its id and looked up again in the
current engine/index, so buttons in old messages keep working across restarts.

    d:<i>|d:x            district choice (index into DISTRICTS, x = 不限区县)
    q:<ref>              answer one entry
    f:<1|0>:<ref>        feedback 👍/👎 on the answer the button is under (ref "-": an excerpt)
    t:<page>             topics page
    c:<cat>:<page>       questions of a category (index into the engine's categories)
    s:<ref>              one station as a venue
    sd:<i>|sd:x          stations of a district
    noop                 a label button (page counter)
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

from knowledge.districts import DISTRICTS

MAX_BYTES = 64
_MAX_PLAIN_REF = 40          # leaves room for the longest prefix
NOOP = "noop"


def _digest(value: str) -> str:
    return "#" + hashlib.blake2b(value.encode("utf-8"), digest_size=8).hexdigest()


def ref_of(item_id: str) -> str:
    """The id itself when short and unambiguous, else "#<hash>"."""
    if len(item_id.encode("utf-8")) <= _MAX_PLAIN_REF and not item_id.startswith("#") and ":" not in item_id:
        return item_id
    return _digest(item_id)


class RefTable:
    """Resolves refs back to ids for one set of ids (built once per engine/index version)."""

    def __init__(self, ids: Iterable[str]):
        self.ids = set(ids)
        self.hashed = {_digest(i): i for i in self.ids}

    def resolve(self, ref: str) -> str | None:
        if ref.startswith("#"):
            return self.hashed.get(ref)
        return ref if ref in self.ids else None


_tables: dict[tuple[str, int, int], RefTable] = {}


def table_for(kind: str, version: int, ids_owner, ids: Iterable[str]) -> RefTable:
    """A cached RefTable per (kind, version, object): rebuilt only when the data changed."""
    key = (kind, version, id(ids_owner))
    table = _tables.get(key)
    if table is None:
        if len(_tables) > 16:
            _tables.clear()
        table = _tables[key] = RefTable(ids)
    return table


def district_data(name: str | None, prefix: str = "d") -> str:
    if name is None:
        return f"{prefix}:x"
    index = next(i for i, d in enumerate(DISTRICTS) if d.name == name)
    return f"{prefix}:{index}"


def district_from(value: str) -> tuple[bool, str | None]:
    """(valid, district name or None for 不限区县)."""
    if value == "x":
        return True, None
    if value.isdigit() and int(value) < len(DISTRICTS):
        return True, DISTRICTS[int(value)].name
    return False, None


def entry_data(faq_id: str) -> str:
    return _checked(f"q:{ref_of(faq_id)}")


def feedback_data(helpful: bool, faq_id: str | None) -> str:
    return _checked(f"f:{1 if helpful else 0}:{ref_of(faq_id) if faq_id else '-'}")


def topics_data(page: int) -> str:
    return f"t:{page}"


def category_data(category_index: int, page: int) -> str:
    return f"c:{category_index}:{page}"


def station_data(station_id: str) -> str:
    return _checked(f"s:{ref_of(station_id)}")


def _checked(data: str) -> str:
    if len(data.encode("utf-8")) > MAX_BYTES:        # cannot happen with refs; guards future prefixes
        raise ValueError(f"callback data too long: {data!r}")
    return data


def parse(data: str | None) -> tuple[str, list[str]]:
    """("q", ["<ref>"]) etc.; ("", []) for anything unknown (old or forged buttons)."""
    if not data or ":" not in data:
        return (data or "", [])
    kind, _, rest = data.partition(":")
    if kind in ("f", "c"):
        parts = rest.split(":", 1)
        return (kind, parts) if len(parts) == 2 else ("", [])
    return kind, [rest]
