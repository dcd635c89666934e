"""The districts the bot serves, and how people name them.

Users write "临平", "临平区", "linping" or even a homophone typo ("林平");
everything downstream works with the full official name.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    name: str            # full official name, as answers and the database write it
    short: str           # what people usually type
    city: str
    pinyin: str          # toneless syllables, space separated
    union: str           # the union federation to refer people to


DISTRICTS: tuple[District, ...] = (
    District("拱墅区", "拱墅", "杭州市", "gong shu", "拱墅区总工会"),
    District("富阳区", "富阳", "杭州市", "fu yang", "富阳区总工会"),
    District("临平区", "临平", "杭州市", "lin ping", "临平区总工会"),
    District("上虞区", "上虞", "绍兴市", "shang yu", "上虞区总工会"),
    District("建德市", "建德", "杭州市", "jian de", "建德市总工会"),
)

BY_NAME = {d.name: d for d in DISTRICTS}
_ALIASES: dict[str, District] = {}
for _d in DISTRICTS:
    for _alias in (_d.name, _d.short, _d.city + _d.name, _d.city[:-1] + _d.short,
                   _d.pinyin.replace(" ", ""), _d.pinyin):
        _ALIASES[_alias.lower()] = _d


def canonical_district(value: str | None) -> str | None:
    """Full name for any accepted spelling ("临平", "linping", "临平区"); None if unknown/empty."""
    if value is None:
        return None
    key = value.strip().lower()
    if not key:
        return None
    d = _ALIASES.get(key)
    return d.name if d else None


def require_district(value: str | None) -> str | None:
    """Like canonical_district, but an unknown non-empty name is an error."""
    if value is None or not str(value).strip():
        return None
    name = canonical_district(str(value))
    if name is None:
        known = "、".join(d.name for d in DISTRICTS)
        raise ValueError(f"未知的区县：{value}（可选：{known}）")
    return name


def union_of(district: str | None) -> str:
    d = BY_NAME.get(district or "")
    return d.union if d else "所在区县的总工会"


def aliases() -> dict[str, str]:
    """Every textual alias (lower-case) mapped to the full name, longest first."""
    return {k: v.name for k, v in sorted(_ALIASES.items(), key=lambda kv: -len(kv[0]))}
