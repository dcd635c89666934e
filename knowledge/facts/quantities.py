"""Numbers as facts: a value bound to its unit ("990名", "493.42万元", "三千元", "七成").

A number means nothing without what it counts, so numbers are compared as quantities:
value, multiplier (万/亿), "余/多", unit and the ordinal "第". A number without a known unit
is bound to the character that follows it ("926工匠日", "2.0版"). Years are kept apart
(see `years_in`): when a fact happened is checked by its own rule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

HOTLINE = "12351"
# Longest first: "万人次" before "万人" before "人".
UNITS = ("人次", "场次", "批次", "小时", "分钟", "万元", "元", "名", "人", "位", "家", "个", "场", "项", "条", "节",
         "张", "份", "期", "班", "例", "起", "次", "届", "批", "支", "件", "所", "座", "户", "辆", "天", "周", "月",
         "日", "号", "年", "岁", "%", "成", "倍", "台", "块", "亩", "篇", "级", "类", "套", "项目")
SAME_UNIT = {"人": "名"}                       # "1360人" and "1360名" count the same thing
APPROX_BEFORE = ("近", "约", "超过", "逾", "不少于", "不到", "将近", "最高", "最多", "至少")
_ZH_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9}
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000}
_ZH_BIG = {"万": 10_000, "亿": 100_000_000}
_ZH_CHARS = "".join(_ZH_DIGIT) + "".join(_ZH_UNIT) + "".join(_ZH_BIG)
_UNIT_RE = "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True))
_ARABIC = re.compile(rf"(第)?(\d+(?:\.\d+)?)(万|亿)?(余|多)?({_UNIT_RE})?")
_CHINESE = re.compile(rf"(第)?([{_ZH_CHARS}]+)(余|多)?({_UNIT_RE})")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?=\s*(?:年|[–—\-~～至到]\s*(?:19|20)\d\d|\)))")
_YEAR_RANGE = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[–—\-~～至到]\s*((?:19|20)\d\d)(?!\d)")


@dataclass(frozen=True)
class Quantity:
    text: str          # as written, e.g. "近35万元"
    key: str           # what must match: "35万元"
    value: str         # "35"
    approx: str        # "近", "" …
    start: int         # position in the text it was found in
    end: int
    chinese: bool = False   # written in Chinese numerals ("三千元")

    @property
    def counts_time(self) -> bool:
        return self.key.endswith(("年", "月", "日", "天", "周", "小时", "分钟"))

    def __str__(self) -> str:
        return self.text


def _canon(number: str) -> str:
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return number.lstrip("0") or "0"


def chinese_number(text: str) -> int | None:
    """"三千" -> 3000, "十五" -> 15, "两" -> 2, "万" -> 10000; None for runs that are not one number."""
    total, section, digit, last_unit = 0, 0, None, None
    for ch in text:
        if ch in "零〇" and last_unit is not None:
            continue                      # "一百零五": a placeholder
        if ch in _ZH_DIGIT:
            if digit is not None:
                return None               # "一二" is a digit string (a phone number), not one number
            digit = _ZH_DIGIT[ch]
        elif ch in _ZH_UNIT:
            unit = _ZH_UNIT[ch]
            if last_unit is not None and unit >= last_unit and digit is None:
                return None               # "百千", "十十"
            section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
        else:
            section += digit or 0
            total += (section or 1) * _ZH_BIG[ch]
            section, digit, last_unit = 0, None, None
    return total + section + (digit or 0)


def _approx_before(text: str, start: int) -> str:
    return next((w for w in APPROX_BEFORE if text.endswith(w, 0, start)), "")


def _is_year(text: str, m: re.Match) -> bool:
    return bool(_YEAR.match(text, m.start(2))) and not m.group(1)


def quantities_in(text: str) -> list[Quantity]:
    """Every quantity in a text; years and the 12351 hotline are not quantities."""
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for m in _ARABIC.finditer(text):
        if m.group(2) == HOTLINE or _is_year(text, m):
            continue
        ordinal, number, big, more, unit = m.groups()
        if unit:
            tail = unit
        else:   # bound to what follows: "926工匠日", "2.0版"; nothing follows: the number alone
            nxt = text[m.end():m.end() + 1]
            tail = nxt if nxt and not nxt.isspace() and nxt not in "，。；、,.;:：！？）)”" else ""
        unit = SAME_UNIT.get(unit or "", unit or "")
        key = f"{ordinal or ''}{_canon(number)}{big or ''}{more or ''}{SAME_UNIT.get(tail, tail) if not unit else unit}"
        found.append(Quantity(m.group(0), key, _canon(number), _approx_before(text, m.start()), m.start(), m.end()))
        taken.append((m.start(), m.end()))
    for m in _CHINESE.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        ordinal, digits, more, unit = m.groups()
        value = chinese_number(digits)
        if value is None:
            continue
        unit = SAME_UNIT.get(unit, unit)
        key = f"{ordinal or ''}{value}{more or ''}{unit}"
        found.append(Quantity(m.group(0), key, str(value), _approx_before(text, m.start()), m.start(), m.end(),
                              chinese=True))
    return sorted(found, key=lambda q: q.start)


def years_in(text: str) -> set[str]:
    """Years written in a text: "2021年", "2024–2025年", "(2021~2023年)"; a range gives both ends only."""
    found = {m.group(1) for m in _YEAR.finditer(text)}
    for m in _YEAR_RANGE.finditer(text):
        found |= {m.group(1), m.group(2)}
    return found
