"""Quotes that can carry a claim: whole clauses of the text, not headings, not across gaps,
not a worker's remark told as the union's rule, and about what the answer says.
"""
from __future__ import annotations

import re

from ..source_text import GAP
from . import ERROR, WARNING, Entry, Finding
from .tense import carrier

_MIN_SHARED = 2


def check(entry: Entry) -> list[Finding]:
    out: list[Finding] = []
    for q in entry.quotes:
        said = f"引文「{q.text[:40]}」"
        if q.place is None:
            continue                       # not in the document: the schema check says so
        if GAP in q.text:
            out.append(Finding(ERROR, f"{said}跨过了原文缺失处（{GAP}），不是原文的一句话", "sources"))
        if q.place.in_heading and not entry.about_bot and "标题" not in entry.answer:
            out.append(Finding(ERROR, f"{said}是标题，不是陈述事实的句子（回答若转述标题，要写明是标题）", "sources"))
        elif not q.place.whole:
            out.append(Finding(ERROR, f"{said}不是完整的分句（从标点到标点），可能丢掉了限定的话", "sources"))
        if not entry.about_bot and _shared(q.text, entry.answer) < _MIN_SHARED:
            out.append(Finding(WARNING, f"{said}与回答没有共同的内容，不能承载回答"))
    out.extend(_speech(entry))
    out.extend(_joined_across_gaps(entry))
    return out


def _joined_across_gaps(entry: Entry) -> list[Finding]:
    """The end of a quote cut off by a gap, run on into the start of another: a sentence the
    original does not have ("带有" + "计划" -> "带有计划")."""
    answer = entry.answer.replace(" ", "")
    cut = [q for q in entry.quotes if q.place and q.place.gap_after]
    resumed = [q for q in entry.quotes if q.place and q.place.gap_before]
    out = []
    for a in cut:
        for b in resumed:
            joint = re.search(re.escape(a.text[-2:]) + r"[^。！？]{0,3}?" + re.escape(b.text[:2]), answer)
            if a is not b and joint:
                out.append(Finding(ERROR, f"回答把原文缺失处两边的文字连成了一句（“{joint.group(0)}”），"
                                          "原文没有这句话"))
    return out


def _speech(entry: Entry) -> list[Finding]:
    """A worker's words ("市总工会还给我们报销学费") may be reported as theirs, never as a rule."""
    out = []
    for clause in entry.clauses:
        if clause.silent or clause.attributed:
            continue
        quote = carrier(clause, entry.support(clause))
        if quote is not None and quote.is_speech:
            out.append(Finding(ERROR, f"「{clause.text.strip('，。；：')}」：出自报道里个人说的话"
                                      f"（“{quote.text[:30]}”），要写明是谁说的，不能当作规定"))
    return out


def _shared(a: str, b: str) -> int:
    pairs = {a[i:i + 2] for i in range(len(a) - 1)}
    return sum(1 for p in pairs if p in b and not set(p) & set("，。；、“”（）"))
