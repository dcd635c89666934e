"""Done or planned: a target must not be told as a result, nor an old article as today's news.

A clause that says "已", "建成", "全部" or "完成" must rest on a quote that reports a result;
where the quote states a plan or target ("计划", "目标", "力争", "到2026年", a plan section of
the article) the clause is wrong. "正在", "目前", "现在" claim the present; the articles are
years old, so only a quote that says so itself may carry them.
"""
from __future__ import annotations

import re

from . import ERROR, WARNING, Entry, Finding
from .claims import Clause
from .sources import PLAN, Located

DONE_WORDS = ("已经", "已", "建成", "全部", "完成", "落成", "全都")
# Before a done word these make it part of a plan ("目标到2026年底建成", "确保按时完成"); "已" stays done.
_PLANNED = re.compile(r"计划|目标|将|要|确保|力争|争取|提出|到(?:19|20)\d\d年")
NOW_WORDS = ("正在", "目前", "现在", "如今", "至今", "仍在")
_BIGRAM = re.compile(r"(?=([\u4e00-\u9fff\d]{2}))")


def check(entry: Entry) -> list[Finding]:
    out: list[Finding] = []
    for clause in entry.clauses:
        if clause.silent:
            continue
        support = entry.support(clause)
        said = f"「{clause.text.strip('，。；：')}」"
        for word in NOW_WORDS:
            if word in clause.text and not any(word in q.text for q in support):
                out.append(Finding(ERROR, f"{said}：“{word}”说的是现在，引文没有这样说（文章写于"
                                          f"{_years(support)}）"))
        done = [w for w in DONE_WORDS if w in clause.text and not _negated(_lead(entry, clause), clause.text, w)]
        if not done:
            continue
        quote = carrier(clause, support, _lead(entry, clause))
        if quote is None:
            out.append(Finding(WARNING, f"{said}：说“{done[0]}”，但找不到承载这一分句的引文"))
        elif quote.tense == PLAN:
            out.append(Finding(ERROR, f"{said}：把计划或目标说成了已完成（“{done[0]}”），引文是“{quote.text}”"))
    return out


def carrier(clause: Clause, quotes: list[Located], lead: str = "") -> Located | None:
    """The quote that shares most with a clause (at least two of its character pairs); a clause
    too short to tell ("已全部发放") is read with the one before it."""
    pairs = set(_BIGRAM.findall(clause.text))
    if len(pairs) < 6 and lead:
        pairs |= set(_BIGRAM.findall(lead))
    best, score = None, 1
    for q in quotes:
        shared = len(pairs & set(_BIGRAM.findall(q.text)))
        if shared > score:
            best, score = q, shared
    return best


def _lead(entry: Entry, clause: Clause) -> str:
    """The clause before this one in the same sentence ("提出，完成…改造": the plan is said there)."""
    i = next((k for k, c in enumerate(entry.clauses) if c is clause), 0)
    before = entry.clauses[i - 1] if i else None
    return before.text if before is not None and before.sentence == clause.sentence else ""


def _negated(lead: str, text: str, word: str) -> bool:
    """Not a claim that it is done: negated, or the object of a plan said in this or the last clause."""
    at = text.find(word)
    if any(text.endswith(n, 0, at) for n in ("不是", "未", "没有", "尚未", "并非")):
        return True
    return not word.startswith("已") and bool(_PLANNED.search(lead + text[:at]))


def _years(quotes: list[Located]) -> str:
    years = sorted({q.document.years for q in quotes})
    return "、".join(years) + "年" if years else "过去"
