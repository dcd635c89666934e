"""Answers for all districts: each district's clause carried by that district's document, and dated.

The five articles are from 2021 to 2025; a cross-district overview that says "建德市可在…报名"
next to "富阳区2024年…" tells a 2021 fact as today's. So every district clause carries its
year, every district answer at least one year, and each clause's words must be found in its
own district's quotes.
"""
from __future__ import annotations

import re
from itertools import groupby

from . import ERROR, WARNING, Entry, Finding
from .claims import Clause, districts_named
from .quantities import years_in

MIN_COVERAGE = 0.4
# Words of any answer (where to ask, linking words) that no quote needs to carry.
_FILLER = re.compile(r"各区文章的说法|文章|报道|提出|提到|目标|计划|要|将|还|并|和|与|及|等|的|了|在|为|把|对|从|"
                     r"年|据|当年|今年以来|区县|总工会|工会")
_PAIR = re.compile(r"(?=([\u4e00-\u9fff\d]{2}))")


def check(entry: Entry) -> list[Finding]:
    if entry.about_bot:
        return []
    if not entry.multi_district:
        if not years_in(entry.answer) and any(not c.silent for c in entry.clauses):
            return [Finding(WARNING, "回答没有写明事实的年份（如“据…2021年的报道”）")]
        return []
    out: list[Finding] = []
    groups = groupby((c for c in entry.clauses if c.district), key=lambda c: (c.sentence, c.district))
    for (_, district), clauses in groups:
        clauses = list(clauses)
        claims = [c for c in clauses if not c.silent]
        if not claims:
            continue
        text = "".join(c.text for c in clauses)
        said = f"「{text.strip('，。；：')}」"
        own = [q for q in entry.quotes if q.document.district == district]
        if not own:
            out.append(Finding(ERROR, f"{said}：说的是{district}，但没有引用{district}的文档"))
            continue
        if not years_in(text):
            out.append(Finding(ERROR, f"{said}：{district}的分句没有写年份（该文是{own[0].document.years}年的）"))
        out.extend(_coverage(said, claims, own))
    return out


def _coverage(said: str, claims: list[Clause], quotes) -> list[Finding]:
    text = _FILLER.sub("", re.sub("|".join(_all_names()), "", "".join(c.text for c in claims)))
    pairs = set(_PAIR.findall(text))
    if len(pairs) < 4:
        return []
    quoted = "".join(q.text for q in quotes)
    share = sum(1 for p in pairs if p in quoted) / len(pairs)
    if share < MIN_COVERAGE:
        return [Finding(WARNING, f"{said}：只有{share:.0%}的字词能在该区引文里找到，可能不是该区文档说的")]
    return []


def _all_names() -> list[str]:
    from ..districts import DISTRICTS
    return sorted({n for d in DISTRICTS for n in (d.name, d.short)}, key=len, reverse=True)


__all__ = ["check", "districts_named"]
