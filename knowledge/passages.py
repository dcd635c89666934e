"""Source-passage fallback: when no FAQ entry fits, a sentence of the documents may.

The documents hold more detail than any FAQ, and a document an admin has just added
has no entries at all. A sentence is offered, quoted and cited, only when it explains
nearly all of the question (lexical coverage), or when it is semantically the closest
sentence and still explains most of it; the bar is higher than for FAQ entries
because a sentence has no curated alternates.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .embedding import PASSAGE, Vectorizer
from .matcher import PhrasingIndex, Prepared, TextPreparer
from .model import SourceDocument
from .semantic import SemanticIndex
from .source_text import GAP, ends_sentence, is_caption, is_heading, is_list_item, paragraphs

PASSAGE_SCORE = 50.0
PASSAGE_COVERAGE = 0.75
SEMANTIC_COVERAGE = 0.55   # the semantically closest sentence needs this much lexical coverage too
SEMANTIC_COSINE = 0.86     # … and at least this cosine (e5 "query:" against "passage:")
CANDIDATES = 5
MIN_QUERY_SYLLABLES = 4
# A statement never contains the question's own interrogatives; they must not count against it.
QUESTION_WORDS = ("多少钱", "多少", "时间", "哪个", "哪家", "谁", "几")
_SPLIT = re.compile(r"(?<=[。！？；])(?![”’」）])")


@dataclass(frozen=True)
class Passage:
    document: SourceDocument
    sentence: str
    score: float
    coverage: float = 0.0


def sentences(text: str) -> list[str]:
    """Whole sentences of an article, fit to be quoted as an answer.

    Headings, photo captions and bylines are skipped, and so is any piece that does not end like a
    sentence (a fragment) or touches a gap in the original ("[原文缺失]"). A list item of a
    targets list ("- 五年提供…名额20000个") counts as a sentence.
    """
    out = []
    for paragraph in paragraphs(text):
        if is_heading(paragraph) or is_caption(paragraph):
            continue
        item = is_list_item(paragraph)
        for part in _SPLIT.split(paragraph.removeprefix("- ")):
            part = re.sub(r"\s+|\*\*", "", part or "")
            if len(part) >= 12 and GAP not in part and (item or ends_sentence(part)):
                out.append(part)
    return out


class PassageIndex:
    def __init__(self, preparer: TextPreparer, documents: list[SourceDocument], vectors: Vectorizer | None = None):
        self._preparer = preparer
        self._items: list[tuple[SourceDocument, str]] = []
        prepared: list[tuple[int, Prepared]] = []
        for doc in documents:
            for sentence in sentences(doc.union_text()):
                prepared.append((len(self._items), preparer.prepare(sentence)))
                self._items.append((doc, sentence))
        self._prepared = [prep for _, prep in prepared]
        self._by_district: dict[str, frozenset[int]] = {}
        for doc in documents:
            if doc.district:
                self._by_district[doc.district] = frozenset(
                    i for i, (d, _) in enumerate(self._items) if d.district in (None, doc.district))
        self._index = PhrasingIndex(prepared)
        self.semantic: SemanticIndex | None = None
        if vectors is not None and self._items:
            self.semantic = SemanticIndex(list(range(len(self._items))),
                                          vectors.vectors([s for _, s in self._items], PASSAGE))
            self._masks = {d: self.semantic.mask_of(keys) for d, keys in self._by_district.items()}

    def __len__(self) -> int:
        return len(self._items)

    def prepared_sentences(self) -> list[Prepared]:
        """The documents' sentences, normalised: background word statistics for FAQ matching."""
        return self._prepared

    def best(self, query: Prepared, district: str | None, vector: np.ndarray | None = None) -> Passage | None:
        """The sentence that answers the question, if one does. `vector`: the question's embedding."""
        query = self._preparer.without(query, QUESTION_WORDS)
        if len(query.code) < MIN_QUERY_SYLLABLES:
            return None
        allowed = self._by_district.get(district) if district else None
        hits = {h.key: h for h in self._index.search(query, allowed, limit=CANDIDATES)}
        close: dict[int, float] = {}
        if vector is not None and self.semantic is not None:
            mask = self._masks.get(district) if district else None
            close = {h.key: h.cosine for h in self.semantic.search(vector, mask, CANDIDATES)}
            missing = [k for k in close if k not in hits]
            if missing:
                hits.update(self._index.score(query, missing))
        best: Passage | None = None
        rank: tuple[float, float] = (-1.0, -1.0)
        for key, hit in hits.items():
            lexical = hit.coverage >= PASSAGE_COVERAGE and hit.score >= PASSAGE_SCORE
            semantic = close.get(key, 0.0) >= SEMANTIC_COSINE and hit.coverage >= SEMANTIC_COVERAGE
            if not (lexical or semantic):
                continue
            # equal coverage (the question's words all in both) goes to the closer meaning: "X是什么"
            # to the sentence defining X rather than the one announcing it
            this = (round(hit.coverage, 2), close.get(key, 0.0))
            if this > rank:
                doc, sentence = self._items[key]
                best, rank = Passage(doc, sentence, hit.score, hit.coverage), this
        return best
