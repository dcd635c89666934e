"""The fact checker: every claim of an answer bound to a quote that carries it.

`kb validate` used to check that each number of an answer occurs somewhere in its quotes; a true
number in a false sentence passed. Here each clause of the answer is a claim, and a claim must
be carried by a quote of the right document, with the same unit and scope, the right year and
tense, from a whole clause of the text and not from a heading or a worker's remark. The rules
live by concern in this package; each returns findings: errors (the answer is wrong) and
warnings (a rule could not decide; `kb validate --strict` fails on them too).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..model import SourceDocument
from .claims import Clause, claims
from .sources import DocumentIndex, Located

ERROR, WARNING = "error", "warning"
BOT_CATEGORY = "关于本机器人"     # entries about the bot itself: their quotes only anchor names and figures


@dataclass(frozen=True)
class Finding:
    level: str
    message: str
    field: str = "answer"      # the field at fault, so an import report can point at its line


@dataclass
class Entry:
    """What the rules look at: one entry, its answer taken apart and its quotes located."""
    id: str
    district: str | None
    category: str
    answer: str
    alternates: list[str]
    quotes: list[Located]
    clauses: list[Clause] = field(default_factory=list)
    multi_district: bool = False

    @property
    def about_bot(self) -> bool:
        return self.category == BOT_CATEGORY

    def support(self, clause: Clause) -> list[Located]:
        """The quotes that may carry a clause: in an answer for all districts, the quotes of the
        district the clause speaks for (or of every district it names); else all quotes."""
        if not self.multi_district:
            return self.quotes
        names = (clause.district,) if clause.district else clause.districts
        if not names:
            return self.quotes
        return [q for q in self.quotes if q.document.district in names or q.document.district is None]


class FactChecker:
    def __init__(self, documents: list[SourceDocument]):
        self.indexes = {d.id: DocumentIndex(d) for d in documents}

    def entry(self, raw: dict) -> Entry:
        quotes = []
        for src in raw.get("sources") or []:
            if not isinstance(src, dict):
                continue
            index = self.indexes.get(str(src.get("document")))
            if index is not None and src.get("quote"):
                quotes.append(index.locate(str(src["quote"])))
        answer = str(raw.get("answer") or "")
        named = {q.document.district for q in quotes if q.document.district}
        multi = raw.get("district") is None and len(named) > 1
        return Entry(str(raw.get("id") or ""), raw.get("district"), str(raw.get("category") or ""), answer,
                     [str(a) for a in raw.get("alternates") or []], quotes, claims(answer, multi), multi)

    def check(self, raw: dict) -> list[Finding]:
        from . import alternates, district_clauses, numbers, quotes, tense, terms
        entry = self.entry(raw)
        findings: list[Finding] = []
        for rule in (quotes.check, numbers.check, terms.check, district_clauses.check, tense.check):
            findings.extend(rule(entry))
        findings.extend(alternates.check(entry, self.indexes))
        return findings
