"""The answer engine: one question (and the user's district) in, one honest answer out.

Plain and synchronous: Telegram handlers, the console and the CLI all call
`AnswerEngine.answer`. It never states a fact that is not in an entry or, for the
passage fallback, a quoted sentence of a source document.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .districts import DISTRICTS, canonical_district, foreign_place, union_of
from .matcher import PhrasingIndex, Prepared, TextPreparer
from .model import FaqEntry, SourceDocument
from .normalize import SynonymMap, base_form
from .passages import PassageIndex

# Calibrated on the dev questions plus tests/data/labelled_questions.jsonl (see bench/calibrate.py).
MATCH_SCORE = 65.0
MATCH_COVERAGE = 0.50
SUGGEST_SCORE = 42.0
SUGGEST_COVERAGE = 0.40
GENERAL_BONUS = 5.0      # no district known: prefer the cross-district overview
CATEGORY_BONUS = 4.0     # the question names the entry's theme
OWN_DISTRICT_PREFERENCE = 8.0   # district known: its own entry beats a near-equal overview
MIN_SYLLABLES = 2        # "好", "123456": under two syllables is never a confident question
HOTLINE = "12351"
BOT_CATEGORY = "关于本机器人"

GREETINGS = {"你好", "您好", "hi", "hello", "在吗", "在不在", "嗨", "哈喽", "早上好", "晚上好", "下午好",
             "谢谢", "感谢", "多谢", "谢谢你", "好的", "ok", "收到", "再见", "拜拜"}


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
    kind: str = "faq"    # faq | passage | not_found | out_of_scope | greeting | empty
    related: list[Suggestion] = field(default_factory=list)
    category: str | None = None

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


def syllables(code: str) -> int:
    """Chinese (or pinyin) syllables in a phonetic code; digits and stray letters are not words."""
    return sum(1 for ch in code if "\ue000" <= ch <= "\uf8ff")


def where_to_ask(district: str | None) -> str:
    if district:
        return f"请咨询{union_of(district)}，或拨打{HOTLINE}职工服务热线。"
    return f"请咨询所在区县的总工会，或拨打{HOTLINE}职工服务热线。"


class AnswerEngine:
    """An immutable index over one version of the knowledge base."""

    def __init__(self, entries: list[FaqEntry], documents: list[SourceDocument],
                 synonyms: list[list[str]] | None = None, categories: list[dict] | None = None,
                 version: int = 0):
        self.version = version
        self.entries = [e for e in entries if e.active]
        self.by_id = {e.id: e for e in self.entries}
        self.documents = {d.id: d for d in documents}
        self.categories = categories or []
        self.preparer = TextPreparer(SynonymMap(synonyms or []))
        items: list[tuple[int, Prepared]] = []
        context: list[tuple[int, Prepared]] = []
        for i, e in enumerate(self.entries):
            for text in (e.question, *e.alternates, *e.keywords):
                items.append((i, self.preparer.prepare(text)))
            for text in (e.answer, *(s.quote for s in e.sources)):
                context.append((i, self.preparer.prepare(text)))
        self.passages = PassageIndex(self.preparer, documents)
        self.index = PhrasingIndex(items, background=self.passages.prepared_sentences(), context=context)
        # Keys each district may be answered from: its own entries and the cross-district ones.
        self._category_texts = {c["name"]: self.preparer.prepare(c["name"]).text for c in self.categories}
        self._own_or_general = {d.name: frozenset(i for i, e in enumerate(self.entries) if e.district in (None, d.name))
                                for d in DISTRICTS}
        self._other_than = {d.name: frozenset(i for i, e in enumerate(self.entries)
                                              if e.district not in (None, d.name)) for d in DISTRICTS}

    # ------------------------------------------------------------------ answering
    def answer(self, question: str | None, district: str | None = None) -> Answer:
        question = (question or "").strip()
        user_district = canonical_district(district)
        prepared = self.preparer.prepare(question)
        named = prepared.districts[0] if prepared.districts else None
        effective = named or user_district

        plain = base_form(question)
        if not plain:
            return Answer(False, "请直接输入您想咨询的问题，例如：“医疗互助怎么报销”“临平读大专有补贴吗”。",
                          None, 0.0, effective, kind="empty")
        if plain in GREETINGS or (not prepared.code and not named):
            return self._greeting(effective)
        if not prepared.code:          # only a district name: show what we have for it
            return self._district_overview(effective)
        elsewhere_place = None if named else foreign_place(question)
        if elsewhere_place:
            return Answer(False, self._foreign_text(elsewhere_place), None, 0.0, None, kind="out_of_scope")

        hits = self._rank(prepared, effective)
        best = hits[0] if hits else None
        if best and best.score >= MATCH_SCORE and best.coverage >= MATCH_COVERAGE \
                and syllables(prepared.code) >= MIN_SYLLABLES:
            entry = self.entries[best.key]
            return self._from_entry(entry, best.score, effective, hits)

        passage = self.passages.best(prepared, effective)
        if passage is not None:
            return self._from_passage(passage, effective, hits)

        suggestions = [self._suggestion(self.entries[h.key]) for h in hits
                       if h.score >= SUGGEST_SCORE and h.coverage >= SUGGEST_COVERAGE][:3]
        elsewhere = self._elsewhere(prepared, effective) if effective else []
        if suggestions or elsewhere:
            lines = ["抱歉，我没有找到完全对应的答案。"]
            if effective:
                lines[0] = f"抱歉，在{effective}的资料里没有找到完全对应的答案。"
            if suggestions:
                lines.append("您可以点选下面的相近问题。")
            if elsewhere:
                names = "、".join(sorted({s.district for s in elsewhere if s.district}))
                lines.append(f"{names}的资料里有相关内容，但那是其他区县的项目，不一定适用于您。")
            lines.append(where_to_ask(effective))
            return Answer(False, "".join(lines), None, best.score if best else 0.0, effective,
                          suggestions=(suggestions + elsewhere)[:3], kind="not_found")
        return Answer(False, self._out_of_scope_text(effective), None, best.score if best else 0.0, effective,
                      kind="out_of_scope")

    def answer_entry(self, faq_id: str, district: str | None = None) -> Answer | None:
        """The answer for a chosen entry (a tapped suggestion or topic)."""
        entry = self.by_id.get(faq_id)
        if entry is None:
            return None
        return self._from_entry(entry, 100.0, canonical_district(district) or entry.district, [])

    # ------------------------------------------------------------------ browsing
    def topics(self, district: str | None = None) -> list[tuple[dict, int]]:
        counts: dict[str, int] = {}
        for e in self._visible(district):
            counts[e.category] = counts.get(e.category, 0) + 1
        return [(c, counts[c["name"]]) for c in self.categories if counts.get(c["name"])]

    def entries_in(self, category: str, district: str | None = None) -> list[FaqEntry]:
        items = [e for e in self._visible(district) if e.category == category]
        return sorted(items, key=lambda e: (e.district is not None, e.district or "", e.id))

    def search_entries(self, text: str, district: str | None = None, limit: int = 10) -> list[FaqEntry]:
        """Entries for an inline query or an admin search, best first (no threshold)."""
        prepared = self.preparer.prepare(text)
        effective = (prepared.districts[0] if prepared.districts else None) or canonical_district(district)
        return [self.entries[h.key] for h in self._rank(prepared, effective)[:limit]
                if h.coverage >= SUGGEST_COVERAGE]

    # ------------------------------------------------------------------ internals
    def _visible(self, district: str | None) -> list[FaqEntry]:
        district = canonical_district(district)
        return [e for e in self.entries if district is None or e.district in (None, district)]

    def _rank(self, prepared: Prepared, district: str | None):
        allowed = self._own_or_general.get(district) if district else None
        hits = self.index.search(prepared, allowed, limit=12)
        # No district known: the cross-district overview is the honest answer. District known:
        # its own programme beats the overview.
        bonus = GENERAL_BONUS if district is None else -OWN_DISTRICT_PREFERENCE
        # A question that names a theme ("体检") prefers that theme's entries over ones that mention it
        # in passing (劳模工匠的体检).
        themes = {name for name, text in self._category_texts.items() if text and text in prepared.text}
        adjusted = []
        for h in hits:
            entry = self.entries[h.key]
            extra = (bonus if entry.district is None else 0.0) + (CATEGORY_BONUS if entry.category in themes else 0.0)
            adjusted.append(replace(h, score=h.score + extra) if extra else h)
        return sorted(adjusted, key=lambda h: -h.score)

    def _elsewhere(self, prepared: Prepared, district: str) -> list[Suggestion]:
        """Strong matches in other districts: offered as theirs, never as the user's."""
        hits = self.index.search(prepared, self._other_than.get(district, frozenset()), limit=3)
        return [self._suggestion(self.entries[h.key]) for h in hits
                if h.score >= MATCH_SCORE and h.coverage >= MATCH_COVERAGE][:2]

    def _suggestion(self, e: FaqEntry) -> Suggestion:
        return Suggestion(e.id, e.question, e.district)

    def _citations(self, entry: FaqEntry) -> list[SourceCitation]:
        out = []
        for s in entry.sources:
            doc = self.documents.get(s.document)
            out.append(SourceCitation(doc.title if doc else s.document, s.document,
                                      (doc.district if doc else None) or entry.district or "",
                                      s.quote, doc.years if doc else ""))
        return out

    def _from_entry(self, entry: FaqEntry, score: float, district: str | None, hits) -> Answer:
        related = [self._suggestion(self.entries[h.key]) for h in hits[1:]
                   if self.entries[h.key].id != entry.id and h.score >= SUGGEST_SCORE][:3]
        if len(related) < 3:
            for other in self.entries_in(entry.category, entry.district):
                if other.id != entry.id and all(r.faq_id != other.id for r in related):
                    related.append(self._suggestion(other))
                if len(related) >= 3:
                    break
        return Answer(True, tidy(entry.answer), entry.id, score, entry.district or district,
                      self._citations(entry), [], "faq", related, entry.category)

    def _from_passage(self, passage, district: str | None, hits) -> Answer:
        doc = passage.document
        text = (f"没有找到现成的问答，以下是{doc.district or ''}资料原文的摘录，供参考：\n"
                f"「{passage.sentence}」\n"
                f"摘录未必完整，具体条件和办理方式文中没有写明，{where_to_ask(doc.district or district)}")
        suggestions = [self._suggestion(self.entries[h.key]) for h in hits
                       if h.score >= SUGGEST_SCORE and h.coverage >= SUGGEST_COVERAGE][:3]
        return Answer(True, text, None, passage.score, doc.district or district,
                      [SourceCitation(doc.title, doc.id, doc.district or "", passage.sentence, doc.years)],
                      suggestions, "passage")

    def _greeting(self, district: str | None) -> Answer:
        names = "、".join(d.name for d in DISTRICTS)
        text = (f"您好！我是工会福利问答机器人，可以回答{names}工会的职工医疗互助、免费体检、疗休养、"
                f"学历提升、爱心驿站、入会、法律援助等问题。直接输入问题即可，例如“临平免费体检名额”。")
        return Answer(False, text, None, 0.0, district, kind="greeting")

    def _district_overview(self, district: str | None) -> Answer:
        topics = "、".join(c["name"] for c, _ in self.topics(district)[:8])
        text = (f"已识别区县：{district}。请告诉我您想了解的内容，例如：{topics}。"
                if district else self._out_of_scope_text(None))
        return Answer(False, text, None, 0.0, district, kind="greeting")

    def _foreign_text(self, place: str) -> str:
        names = "、".join(d.name for d in DISTRICTS)
        return (f"我目前只有{names}工会的资料，没有{place}的信息，不能替那里回答。"
                f"请咨询{place}当地的总工会，或拨打{HOTLINE}职工服务热线。")

    def _out_of_scope_text(self, district: str | None) -> str:
        names = "、".join(d.short for d in DISTRICTS)
        return (f"这个问题超出了我能回答的范围。我只回答{names}工会的职工福利和服务，"
                f"例如医疗互助、体检、疗休养、学历提升、爱心驿站、入会、维权帮扶等。{where_to_ask(district)}")
