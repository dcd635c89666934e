"""Where a quote sits in its document, and what that tells about it.

A quote is only as good as its place: a heading carries no fact, a piece cut out of a
sentence can drop what the sentence limits ("优秀职工"), a line of a worker's speech is not
the union's rule, and the section a quote stands in says when it happened (“## 2024年成就”)
and whether it is done or planned (“下一阶段工作思路”).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from ..model import SourceDocument
from ..source_text import CAPTION, GAP, is_heading, paragraphs
from .quantities import years_in

PLAN, DONE = "plan", "done"
# Words of a sentence that state a plan or target, or a result.
_PLAN_WORDS = re.compile(r"计划|目标|力争|争取|今后|未来|下一阶段|拟|到(?:19|20)\d\d年|"
                         r"将(?:以|在|继续|立足|进一步|持续|全面|着力|大力|推动|深化|把)")
_DONE_WORDS = re.compile(r"已|今年以来|去年|累计|全年|先后|相继|成功|以来")
# A clause ends (or starts) at these; "、" only separates items of one clause.
BOUNDARY = set("，。；：！？,;:!?…“”「」—")
_SPEECH = re.compile(r"“([^“”]{15,})”")


def squash(text: str) -> str:
    """Whitespace removed: OCR line breaks and stray spaces do not count."""
    return re.sub(r"\s+", "", text or "")


def _flat(paragraph: str) -> str:
    """A paragraph as quotes are matched against it: no whitespace, markdown or list bullet."""
    text = re.sub(r"^#+", "", paragraph.strip()).removeprefix(CAPTION)
    text = re.sub(r"^- ", "", text)
    return squash(text.replace("**", ""))


@dataclass(frozen=True)
class Place:
    """One occurrence of a quote in its document."""
    paragraph: int
    start: int                # in the flattened paragraph
    end: int
    in_heading: bool
    whole: bool               # starts and ends at clause boundaries (or a gap)
    across_gap: bool
    gap_before: bool = False  # the original lost the text just before / after it
    gap_after: bool = False


@dataclass(frozen=True)
class Located:
    """A quote with what its place in the document tells."""
    text: str                 # squashed
    document: SourceDocument
    place: Place | None
    years: frozenset[str]     # years it may be dated by: its own, else its section's, else the document's
    tense: str                # PLAN, DONE or ""
    is_speech: bool           # part of someone's quoted words ("市总工会还给我们报销学费")
    sentence: str             # the whole flattened clause-run around it (for scope words)


class DocumentIndex:
    def __init__(self, document: SourceDocument):
        self.document = document
        self.paragraphs = paragraphs(document.text)
        self.flat = [_flat(p) for p in self.paragraphs]
        self.headings = [is_heading(p) for p in self.paragraphs]

    @cached_property
    def document_years(self) -> frozenset[str]:
        return frozenset(years_in(self.document.years + "年"))

    def find(self, quote: str) -> list[Place]:
        q = _flat(quote)
        places = []
        if not q:
            return places
        for i, text in enumerate(self.flat):
            start = text.find(q)
            while start >= 0:
                end = start + len(q)
                before_ok = start == 0 or text[start - 1] in BOUNDARY or text.endswith(GAP, 0, start) \
                    or q[0] in BOUNDARY
                after_ok = end == len(text) or text[end] in BOUNDARY or text.startswith(GAP, end) \
                    or q[-1] in BOUNDARY or (q[-1] in "”’）)" and (end == len(text) or text[end] in BOUNDARY))
                whole = (before_ok and after_ok) or self.headings[i]      # a title may be quoted in part
                places.append(Place(i, start, end, self.headings[i], whole, GAP in q,
                                    text[:start].rstrip("".join(BOUNDARY)).endswith(GAP),
                                    text[end:].lstrip("".join(BOUNDARY)).startswith(GAP)))
                start = text.find(q, start + 1)
        return places

    def locate(self, quote: str) -> Located:
        places = self.find(quote)
        place = next((p for p in places if p.whole), places[0] if places else None)
        text = _flat(quote)
        if place is None:
            return Located(text, self.document, None, frozenset(years_in(text)) or self.document_years, "",
                           False, text)
        return Located(text, self.document, place, self._years(text, place.paragraph),
                       self._tense(text, place.paragraph), self._in_speech(place),
                       self._sentence(place))

    # ---------------------------------------------------------------- what the place tells
    def _years(self, quote: str, paragraph: int) -> frozenset[str]:
        own = years_in(quote)
        if own:
            return frozenset(own)
        for i in range(paragraph - 1, -1, -1):
            if self.headings[i] and self.paragraphs[i].startswith("#") and years_in(self.paragraphs[i]):
                return frozenset(years_in(self.paragraphs[i]))
        return self.document_years

    def _tense(self, quote: str, paragraph: int) -> str:
        sentence = self._sentence_of(quote, paragraph)
        if _PLAN_WORDS.search(sentence):
            return PLAN
        if _DONE_WORDS.search(sentence):
            return DONE
        sections = {squash(h): t for h, t in (self.document.tense_by_heading or {}).items() if h}
        passed = 99          # the highest heading level between the quote and the heading looked at
        for i in range(paragraph, -1, -1):
            if not self.headings[i]:
                continue
            level = _level(self.paragraphs[i])
            tense = next((t for h, t in sections.items() if self.flat[i].startswith(h)), None)
            if tense and level < passed:
                return tense
            passed = min(passed, level)
        return self.document.tense or ""

    def _sentence_of(self, quote: str, paragraph: int) -> str:
        text = self.flat[paragraph]
        at = text.find(quote)
        if at < 0:
            return quote
        start = max(text.rfind(ch, 0, at) for ch in "。！？；") + 1
        ends = [e for e in (text.find(ch, at + len(quote)) for ch in "。！？；") if e >= 0]
        return text[start:(min(ends) + 1) if ends else len(text)]

    def _sentence(self, place: Place) -> str:
        text = self.flat[place.paragraph]
        return self._sentence_of(text[place.start:place.end], place.paragraph)

    def _in_speech(self, place: Place) -> bool:
        text = self.flat[place.paragraph]
        for m in _SPEECH.finditer(text):
            if m.start() <= place.start and place.end <= m.end() and re.search(r"我|咱", m.group(1)):
                return True
        return False


def _level(heading: str) -> int:
    """Markdown level of a heading ("## …" is 2); a plain heading line is the lowest level."""
    marks = len(heading) - len(heading.lstrip("#"))
    return marks or 9
