"""Scoring questions against FAQ phrasings.

Everything is compared on phonetic codes (one character per syllable), so
homophone typos and pinyin input meet their words. A phrasing's score is how much
of the question it explains (IDF-weighted coverage of syllables and syllable
pairs, order-free, since Chinese reorders freely: 体检免费 / 免费体检) and how much
of itself the question contains, plus a little character-level exactness.
Weighting by IDF is the gate that keeps "北京到上海的高铁多少钱" from matching an
entry on 多少 alone: unseen and rare syllables weigh most.

The index is built once per knowledge-base version; a question touches only the
postings of its own syllable pairs and rarer syllables.
"""
from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass

from rapidfuzz import fuzz

from .districts import DISTRICTS, aliases, homophone_district
from .normalize import SynonymMap, base_form, phonetic_code, pinyin_runs_to_code, strip_fillers

MAX_QUERY_CHARS = 120          # a 4,096-character message is matched on its beginning
COMMON_SHARE = 0.04            # syllables found for more keys than this share only score, never retrieve
MAX_CANDIDATES = 60             # keys scored exactly per question
EXACT_KEYS = 20                # keys whose phrasings are compared one by one
CONTEXT_CREDIT = 0.6           # a question word found only in the answer/quote counts this much
_EMPTY: frozenset[str] = frozenset()

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


def _bigrams(code: str) -> set[str]:
    return {code[i:i + 2] for i in range(len(code) - 1)}


@dataclass
class _Phrasing:
    key: int              # index of the thing it belongs to (an entry, or a passage)
    text: str
    uni: frozenset[str]
    bi: frozenset[str]
    uni_weight: float
    bi_weight: float


@dataclass(frozen=True)
class Hit:
    key: int
    score: float          # 0–100
    coverage: float       # IDF-weighted share of the question found in the phrasing, 0–1
    phrasing: str


class PhrasingIndex:
    """IDF-weighted, order-free syllable matching over many short texts, each tagged with a key.

    Coverage is measured against everything known for a key (all its phrasings together),
    precision and exactness against its single closest phrasing. `background` texts only
    inform the IDF, so words common in union documents weigh less than words never seen.
    """

    def __init__(self, items: list[tuple[int, Prepared]], background: list[Prepared] = (),
                 context: list[tuple[int, Prepared]] = ()):
        self._phrasings: list[_Phrasing] = []
        bag_uni: dict[int, set[str]] = defaultdict(set)
        bag_bi: dict[int, set[str]] = defaultdict(set)
        # Words of a key's answer and quotes count towards coverage at part credit: a question may
        # use the answer's words ("打算建几个" / "建成") without any phrasing anticipating them.
        ctx_uni: dict[int, set[str]] = defaultdict(set)
        ctx_bi: dict[int, set[str]] = defaultdict(set)
        for key, prep in context:
            ctx_uni[key] |= set(prep.code)
            ctx_bi[key] |= _bigrams(prep.code)
        raw: list[tuple[int, Prepared, frozenset[str], frozenset[str]]] = []
        for key, prep in items:
            if not prep.code:
                continue
            uni, bi = frozenset(prep.code), frozenset(_bigrams(prep.code))
            bag_uni[key] |= uni
            bag_bi[key] |= bi
            raw.append((key, prep, uni, bi))
        df_uni: dict[str, int] = defaultdict(int)
        docs = [bag_uni[k] for k in bag_uni] + [set(b.code) for b in background if b.code]
        for syllables in docs:
            for c in syllables:
                df_uni[c] += 1
        self._n = max(len(docs), 1)
        self._idf_uni = {c: self._idf(d) for c, d in df_uni.items()}
        self._unseen = self._idf(0)
        self._bag_uni = {k: frozenset(v) for k, v in bag_uni.items()}
        self._bag_bi = {k: frozenset(v) for k, v in bag_bi.items()}
        self._ctx_uni = {k: frozenset(v - bag_uni.get(k, set())) for k, v in ctx_uni.items()}
        self._ctx_bi = {k: frozenset(v - bag_bi.get(k, set())) for k, v in ctx_bi.items()}
        post_uni: dict[str, list[int]] = defaultdict(list)
        post_bi: dict[str, list[int]] = defaultdict(list)
        self._phrasings_of: dict[int, list[int]] = defaultdict(list)
        for pid, (key, prep, uni, bi) in enumerate(raw):
            self._phrasings.append(_Phrasing(
                key, prep.text, uni, bi,
                sum(self._idf_uni.get(c, self._unseen) for c in uni),
                sum(self._w_bi(b) for b in bi) or 1e-9))
            self._phrasings_of[key].append(pid)
        # Postings by key, not by phrasing: a key's phrasings share most of their words.
        for key in self._bag_uni:
            for c in self._bag_uni[key]:
                post_uni[c].append(key)
            for b in self._bag_bi[key]:
                post_bi[b].append(key)
        self._post_uni = dict(post_uni)
        self._post_bi = dict(post_bi)
        self._common = max(50, int(COMMON_SHARE * len(self._bag_uni)))

    def _coverage(self, key: int, q_uni: dict, q_bi: dict, q_uni_total: float, n: int) -> float:
        """How much of the question (IDF-weighted) this key's phrasings, answer and quotes contain."""
        bu, bb = self._bag_uni[key], self._bag_bi[key]
        cu, cb = self._ctx_uni.get(key, _EMPTY), self._ctx_bi.get(key, _EMPTY)
        credit = {c: (1.0 if c in bu else CONTEXT_CREDIT if c in cu else 0.0) for c in q_uni}
        cov_uni = sum(w * credit[c] for c, w in q_uni.items()) / q_uni_total
        # Contiguity: of the question's pairs whose two syllables both occur for this key, how many
        # occur as a pair. Scattered single syllables are weak evidence; an unmatched syllable inside
        # a phrase ("工匠要认定") is already paid for in cov_uni.
        possible = found = 0.0
        for b, w in q_bi.items():
            if credit[b[0]] and credit[b[1]]:
                possible += w
                found += w if b in bb else CONTEXT_CREDIT * w if b in cb else 0.0
        contiguity = found / possible if possible else (1.0 if n == 1 else 0.0)
        return cov_uni * (0.5 + 0.5 * contiguity)

    def _idf(self, df: int) -> float:
        return math.log((self._n + 1) / (df + 0.5)) + 0.1

    def _w_uni(self, c: str) -> float:
        return self._idf_uni.get(c, self._unseen)

    def _w_bi(self, b: str) -> float:
        """A pair weighs what its syllables weigh: pairs across word boundaries are mostly unseen,
        and an unseen pair of common syllables ("共有") says nothing about the topic."""
        return 0.5 * (self._w_uni(b[0]) + self._w_uni(b[1]))

    def __len__(self) -> int:
        return len(self._phrasings)

    def search(self, query: Prepared, allowed: Container[int] | None = None, limit: int = 10) -> list[Hit]:
        """Best phrasing per key, best first; `allowed` (a set of keys) filters, e.g. by district."""
        code = query.code
        if not code:
            return []
        q_uni, q_bi, _, _ = self._weights(code)

        # Retrieval: accumulate the question's word weights per key over the postings of its rarer
        # words (a word in most keys tells little and costs most), then score the best keys exactly.
        candidates: dict[int, float] = defaultdict(float)
        skipped: list[tuple[int, dict, float]] = []
        for postings, weights, share in ((self._post_bi, q_bi, 1.0), (self._post_uni, q_uni, 0.5)):
            for term, w in weights.items():
                keys = postings.get(term)
                if not keys:
                    continue
                if len(keys) > self._common:
                    skipped.append((len(keys), keys, w * share))
                    continue
                for key in keys:
                    candidates[key] += w * share
        if not candidates and skipped:        # only common words: fall back to the least common
            _, keys, w = min(skipped, key=lambda t: t[0])
            candidates = dict.fromkeys(keys, w)
        if allowed is not None:
            candidates = {k: v for k, v in candidates.items() if k in allowed}
        if len(candidates) > MAX_CANDIDATES:
            keys = heapq.nlargest(MAX_CANDIDATES, candidates, key=candidates.__getitem__)
        else:
            keys = list(candidates)
        coverage_of = self._coverages(query, keys)
        # Coverage is most of the score: phrasings are compared only for the keys that cover the
        # question best (precision and exactness can reorder those, rarely rescue the rest).
        if len(keys) > EXACT_KEYS:
            keys = heapq.nlargest(EXACT_KEYS, keys, key=coverage_of.__getitem__)
        best = self._exact(query, keys, coverage_of)
        return heapq.nlargest(limit, best.values(), key=lambda h: h.score)

    def score(self, query: Prepared, keys: list[int]) -> dict[int, Hit]:
        """The same score as `search`, for chosen keys (candidates another retriever found)."""
        keys = [k for k in keys if k in self._bag_uni]
        if not query.code or not keys:
            return {}
        return self._exact(query, keys, self._coverages(query, keys))

    def _weights(self, code: str) -> tuple[dict, dict, float, float]:
        q_uni = {c: self._w_uni(c) for c in set(code)}
        q_bi = {b: self._w_bi(b) for b in _bigrams(code)}
        return q_uni, q_bi, sum(q_uni.values()), sum(q_bi.values())

    def _coverages(self, query: Prepared, keys) -> dict[int, float]:
        q_uni, q_bi, q_uni_total, _ = self._weights(query.code)
        return {key: self._coverage(key, q_uni, q_bi, q_uni_total, len(query.code)) for key in keys}

    def _exact(self, query: Prepared, keys, coverage_of: dict[int, float]) -> dict[int, Hit]:
        """Precision and exactness against each phrasing of each key; the best phrasing per key."""
        q_uni, q_bi, _, q_bi_total = self._weights(query.code)
        q_uni_keys, q_bi_keys = q_uni.keys(), q_bi.keys()
        best: dict[int, Hit] = {}
        for key in keys:
            coverage = coverage_of[key]
            for pid in self._phrasings_of[key]:
                p = self._phrasings[pid]
                m_uni = sum(map(q_uni.__getitem__, p.uni & q_uni_keys))   # set intersection runs in C
                m_bi = sum(map(q_bi.__getitem__, p.bi & q_bi_keys))
                precision = 0.5 * m_uni / p.uni_weight + 0.5 * m_bi / p.bi_weight if q_bi_total \
                    else m_uni / p.uni_weight
                exact = fuzz.ratio(query.text, p.text) / 100.0
                score = 100.0 * (0.55 * coverage + 0.30 * precision + 0.15 * exact)
                hit = best.get(key)
                if hit is None or score > hit.score:
                    best[key] = Hit(key, score, coverage, p.text)
        return best
