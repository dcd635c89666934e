"""Scoring questions against FAQ phrasings.

Everything is compared on phonetic codes (one character per syllable), so
homophone typos and pinyin input meet their words. A phrasing's score is how much
of the question it explains (IDF-weighted coverage of syllables and syllable
pairs, order-free, since Chinese reorders freely: 体检免费 / 免费体检) and how much
of itself the question contains, plus a little character-level exactness.
Weighting by IDF is the gate that keeps "北京到上海的高铁多少钱" from matching an
entry on 多少 alone: unseen and rare syllables weigh most.

The index (knowledge.phrasing_index) is built once per knowledge-base version and edited in
place after an admin's change; a question touches only the postings of its own syllable
pairs and rarer syllables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .districts import DISTRICTS, aliases, homophone_district, place_district
from .normalize import SynonymMap, base_form, phonetic_code, pinyin_runs_to_code, strip_fillers
from .phrasing_index import Hit, PhrasingIndex

__all__ = ["Hit", "PhrasingIndex", "Prepared", "TextPreparer"]

MAX_QUERY_CHARS = 120          # a 4,096-character message is matched on its beginning

_DISTRICT_ALIASES = aliases()
_DISTRICT_RE = re.compile("|".join(map(re.escape, _DISTRICT_ALIASES)))


@dataclass(frozen=True)
class Prepared:
    """A text after normalisation: what the matcher compares."""
    text: str            # normalised characters (synonyms canonical, fillers and districts removed)
    code: str            # phonetic code of `text`
    districts: tuple[str, ...]  # districts named in the original text, in order, full names


class TextPreparer:
    def __init__(self, synonyms: SynonymMap):
        self.synonyms = synonyms

    def prepare(self, raw: str) -> Prepared:
        text = base_form(raw)[: MAX_QUERY_CHARS * 2]
        found: list[str] = []
        for m in _DISTRICT_RE.finditer(text):
            name = _DISTRICT_ALIASES[m.group(0)]
            if name not in found:
                found.append(name)
        text = _DISTRICT_RE.sub("", text)
        if not found:
            typo = homophone_district(text, phonetic_code)
            if typo:
                found.append(typo)
                text = _strip_homophone(text, typo)
        if not found:
            # A place inside a district names it too; the place stays in the text (entries name it).
            inside = place_district(text)
            if inside:
                found.append(inside)
        text = strip_fillers(self.synonyms.apply(text))[:MAX_QUERY_CHARS]
        code = self.synonyms.apply_code(pinyin_runs_to_code(text) or phonetic_code(text))
        return Prepared(text, code, tuple(found))


    def without(self, prepared: Prepared, words: tuple[str, ...]) -> Prepared:
        """The same text with some words removed (question words, when matching statements)."""
        text = prepared.text
        for w in words:
            text = text.replace(w, "")
        if text == prepared.text:
            return prepared
        return Prepared(text, self.synonyms.apply_code(phonetic_code(text)), prepared.districts)


def _strip_homophone(text: str, district: str) -> str:
    """Removes the characters that spelled the district by sound ("林平区" in "林平区工会主席")."""
    short = next(d.short for d in DISTRICTS if d.name == district)
    target = phonetic_code(short) + phonetic_code(district[-1])
    for i in range(len(text) - len(target) + 1):
        if phonetic_code(text[i:i + len(target)]) == target:
            return text[:i] + text[i + len(target):]
    return text
