"""Preparing a question: the first step of the retrieval pipeline.

A raw message becomes a `Question`: read into clauses (knowledge.message), normalised
three ways for the lexical matcher (the whole message, its focus, its asking clauses),
its districts found anywhere in it, and the themes it names.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .districts import canonical_district
from .matcher import Prepared, TextPreparer
from .message import ReadMessage, read_message
from .normalize import base_form

SEMANTIC_CHARS = 80
OTHER_TOPICS_FILE = Path(__file__).resolve().parent / "data" / "other_topics.yaml"


@lru_cache(maxsize=1)
def other_topic_words() -> tuple[str, ...]:
    """Words of topics the union does not run (knowledge/data/other_topics.yaml), base form, longest first."""
    from .kbfiles import load_yaml, strip_lines

    groups = strip_lines(load_yaml(OTHER_TOPICS_FILE.read_text("utf-8"), OTHER_TOPICS_FILE.name))["topics"]
    return tuple(sorted({base_form(str(w)) for g in groups for w in g if base_form(str(w))}, key=len, reverse=True))


def syllables(code: str) -> int:
    """Chinese (or pinyin) syllables in a phonetic code; digits and stray letters are not words."""
    return sum(1 for ch in code if "\ue000" <= ch <= "\uf8ff")


@dataclass(frozen=True)
class Question:
    raw: str
    read: ReadMessage
    plain: str                   # base form of the whole message (empty: nothing to read)
    full: Prepared               # the whole message
    focus: Prepared              # asking clauses and their context
    asking: Prepared             # the asking clauses alone
    last: Prepared               # the last asking clause alone (a short question: all of it)
    named: tuple[str, ...]       # districts named anywhere in the message, full names, in order
    user_district: str | None    # the district the user chose (/district), if any
    themes: frozenset[str]       # category names the question names
    other_topic: bool = False    # names something the union does not run (医保, 公积金, 驾照 …)

    @property
    def district(self) -> str | None:
        """The district the answer is for: the one named in the message, else the chosen one."""
        return self.named[0] if self.named else self.user_district

    @property
    def variants(self) -> list[Prepared]:
        """The distinct texts the lexical matcher reads (a short question is all focus)."""
        seen: list[Prepared] = []
        for p in (self.full, self.focus, self.asking):
            if p.code and all(p.code != s.code for s in seen):
                seen.append(p)
        return seen

    @property
    def semantic_text(self) -> str:
        """What the embedding model reads: the message without greetings and thanks, at most
        SEMANTIC_CHARS characters. The model's cost grows with length, so a long message drops its
        self-introduction first ("我是…干了五年了"), then its tail is cut. One reading only: a second
        one of a long message's asking clauses alone changed 5 of 154 labelled long messages' replies
        and no grade, and the two texts took 42 ms where one takes 29 (chatty p50, two cores); the
        lexical matcher still reads the asking clauses apart."""
        kept = [c for c in self.read.clauses if c.role not in ("greeting", "thanks")]
        while len("，".join(c.text for c in kept)) > SEMANTIC_CHARS and any(c.role == "intro" for c in kept):
            kept.remove(next(c for c in kept if c.role == "intro"))
        return ("，".join(c.text for c in kept) or self.read.clean)[:SEMANTIC_CHARS]

    @property
    def length(self) -> int:
        return syllables(self.focus.code or self.full.code)


class QuestionReader:
    def __init__(self, preparer: TextPreparer, category_texts: dict[str, str]):
        self.preparer = preparer
        self._category_texts = category_texts

    def read(self, raw: str | None, district: str | None = None) -> Question:
        raw = (raw or "").strip()
        read = read_message(raw)
        full = self.preparer.prepare(read.clean)
        focus = self.preparer.prepare(read.focus) if read.focus and read.focus != read.clean else full
        ask_text = read.asking()
        asking = self.preparer.prepare(ask_text) if ask_text and ask_text != read.focus else focus
        last_text = read.last_question() if read.is_long else ""
        last = self.preparer.prepare(last_text) if last_text and last_text != ask_text else asking
        named = full.districts
        themes = frozenset(name for name, text in self._category_texts.items() if text and text in full.text)
        plain = base_form(read.clean)
        asked = base_form(read.focus) or plain
        other = any(w in asked for w in other_topic_words())
        return Question(raw, read, plain, full, focus, asking, last, named, canonical_district(district), themes, other)
