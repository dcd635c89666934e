"""An answer taken apart into claims: clauses, whose district they speak for, and what kind.

A clause that says what the source does not say ("文中没有写…") or where to ask ("请咨询…")
states no fact; every other clause is a claim and must be carried by a quote. In an answer
for all districts, each clause speaks for the district it names ("临平区目标…；上虞区…")
and only that district's document may carry it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..districts import DISTRICTS

_DISTRICT_NAMES = sorted(((alias, d.name) for d in DISTRICTS for alias in (d.name, d.short)),
                         key=lambda kv: -len(kv[0]))
_DISTRICT_RE = re.compile("|".join(re.escape(a) for a, _ in _DISTRICT_NAMES))
_FULL = {a: n for a, n in _DISTRICT_NAMES}
# Saying what the source lacks, where to ask, or how to use the bot: no fact about a programme.
_SILENT = re.compile(r"没有|没写|未写|未提|未列|不清楚|不一定|请咨询|可咨询|咨询|拨打|热线|发送\s*/|可以问|分别问|"
                     r"以.{0,14}为准|可能|不提供|以免|只能转述|不是已|是否")
# Someone's words reported as theirs: a person, then a verb of saying ("有职工说", "员工邵瑞珍表示");
# "报道只说" is the report, not a person.
_ATTRIBUTION = re.compile(r"(?:职工|员工|工人|学生|代表|劳模|工匠|主席|负责人|师傅|小哥|骑手|有人|他|她)"
                          r"[^，。；]{0,6}(?:说|表示|讲述|感慨|谈到|回忆|称)")
_SENTENCE_END = re.compile(r"(?<=[。！？])")
_CLAUSE_END = re.compile(r"(?<=[，。；！？：])")


@dataclass
class Clause:
    text: str
    sentence: str              # the sentence it belongs to
    district: str | None       # the district it speaks for (answers for all districts), else None
    districts: tuple[str, ...]  # every district it names
    silent: bool

    @property
    def attributed(self) -> bool:
        return bool(_ATTRIBUTION.search(self.sentence))


def districts_named(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for m in _DISTRICT_RE.finditer(text):
        name = _FULL[m.group(0)]
        if name not in found:
            found.append(name)
    return tuple(found)


def sentences(answer: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(re.sub(r"\s+", "", answer or "")) if s]


def claims(answer: str, multi_district: bool) -> list[Clause]:
    """The answer's clauses (cut at "，；：" and sentence ends), each with the district it speaks for:
    in an answer for all districts, the one its clause names, or the last one named before it in
    the same sentence ("上虞区鼓励…，补助职工990名")."""
    out: list[Clause] = []
    for sentence in sentences(answer):
        current: str | None = None
        for seg in (c for c in _CLAUSE_END.split(sentence) if c):
            named = districts_named(seg)
            if multi_district:
                if len(named) == 1:
                    current = named[0]
                elif named:
                    current = None
            out.append(Clause(seg, sentence, current if multi_district else None, named,
                              bool(_SILENT.search(seg))))
    return out


def clause_around(text: str, start: int, end: int) -> str:
    """The smallest clause (between "，。；" …) that holds text[start:end]."""
    left = max(text.rfind(ch, 0, start) for ch in "，。；！？：,;") + 1
    rights = [r for r in (text.find(ch, end) for ch in "，。；！？：,;") if r >= 0]
    return text[left:min(rights) if rights else len(text)]
