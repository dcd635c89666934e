"""What the engine hands back: one reply, its sources and the questions it offers next.

The JSON form (`Answer.to_json`) is the CLI and evaluation contract.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .districts import union_of

HOTLINE = "12351"
BOT_CATEGORY = "关于本机器人"


@dataclass
class SourceCitation:
    title: str
    document: str
    district: str
    quote: str
    years: str = ""


@dataclass
class Suggestion:
    faq_id: str
    question: str
    district: str | None = None


@dataclass
class Answer:
    matched: bool
    answer: str
    faq_id: str | None
    score: float
    district: str | None
    sources: list[SourceCitation] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    # faq | passage | choices | not_found | out_of_scope | greeting | thanks | empty
    kind: str = "faq"
    related: list[Suggestion] = field(default_factory=list)
    category: str | None = None
    aspect: str | None = None           # what the question asked about (amount, address …), if recognised
    continued: str | None = None        # the earlier question a follow-up was read against
    resolved: str | None = None         # a follow-up as the engine read it ("那富阳呢" -> "富阳 读大专有补贴吗")
    document: str | None = None         # the source document of a passage answer

    def to_json(self) -> dict:
        """The CLI/evaluation contract."""
        return {
            "matched": self.matched,
            "answer": self.answer,
            "faq_id": self.faq_id,
            "score": round(self.score, 2),
            "district": self.district,
            "sources": [{"title": s.title, "document": s.document, "district": s.district, "quote": s.quote}
                        for s in self.sources],
            "suggestions": [{"faq_id": s.faq_id, "question": s.question} for s in self.suggestions],
            "kind": self.kind,
            "aspect": self.aspect,
            "continued": self.continued,
        }

    def source_line(self) -> str:
        """"来源：《标题》（临平区，2021–2026）" for each distinct document."""
        if self.category == BOT_CATEGORY:
            return "来源：本机器人的使用说明（知识来自五个区县工会的报道）"
        seen: list[str] = []
        for s in self.sources:
            label = f"《{s.title}》（{s.district or '全部区县'}，{s.years}）" if s.years else f"《{s.title}》"
            if label not in seen:
                seen.append(label)
        return "来源：" + "；".join(seen) if seen else ""

    def as_text(self) -> str:
        parts = [self.answer]
        if self.sources:
            parts.append(self.source_line())
        if self.suggestions:
            parts.append("您是不是想问：\n" + "\n".join(f"· {s.question}" for s in self.suggestions))
        return "\n\n".join(parts)


_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_CJK_GAP = re.compile(f"(?<=[{_CJK}”）])\\s+(?=[{_CJK}“（])")


def tidy(text: str) -> str:
    """Folded YAML leaves a space where a line broke between two Chinese sentences; Chinese has none."""
    return _CJK_GAP.sub("", text.strip())


def where_to_ask(district: str | None) -> str:
    if district:
        return f"请咨询{union_of(district)}，或拨打{HOTLINE}职工服务热线。"
    return f"请咨询所在区县的总工会，或拨打{HOTLINE}职工服务热线。"
