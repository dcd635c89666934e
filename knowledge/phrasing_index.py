"""The lexical index behind knowledge.matcher: compact enough for 100,000 entries, editable in place.

Scores are exactly those of the original dict-of-sets index (see matcher.py for what they mean).
What changed is the storage: per key, its phrasings' codes and texts are kept as two joined strings
and its answer/quote codes by reference, instead of a Python object and two frozensets per
phrasing; postings are `array('i')` (4 bytes a key, not a list of int objects). A candidate's
coverage is read off those strings (substring tests); the sets the finer scores need are rebuilt for
the keys compared one by one (EXACT_KEYS) and kept in a small cache, which later questions' coverage
uses too. Weights follow from document frequencies, so an edit (`update`, `remove`) adjusts
the counts and postings of one key and drops the cache: no rebuild, same scores as a rebuild.
"""
from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_left
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz

if TYPE_CHECKING:
    from .matcher import Prepared

COMMON_SHARE = 0.04            # syllables found for more keys than this share only score, never retrieve
MAX_CANDIDATES = 60             # keys scored exactly per question
EXACT_KEYS = 20                # keys whose phrasings are compared one by one
CONTEXT_CREDIT = 0.6           # a question word found only in the answer/quote counts this much
KEY_CACHE = 4096               # keys whose sets are kept between questions
NUMPY_KEYS = 20_000            # from this many keys, candidates are accumulated with numpy (same result)
SEP = "\x1f"                   # joins a key's phrasings (never in a normalised text or a code)


def _bigrams(code: str) -> set[str]:
    return set(map(str.__add__, code[:-1], code[1:]))     # left to right, as {code[i:i + 2] for i …}


@dataclass(frozen=True)
class Hit:
    key: int
    score: float          # 0–100
    coverage: float       # IDF-weighted share of the question found in the phrasing, 0–1
    phrasing: str


@dataclass(slots=True)
class _Key:
    """What one key's scores are computed from, as compact as it stays (see _Sets for the expanded form)."""
    codes: str                    # its phrasings' codes, SEP-joined
    texts: str                    # their normalised texts, SEP-joined
    context: tuple[str, ...]      # codes of its answer and quotes (shared strings when texts repeat)


class _Sets:
    """A key's sets and phrasing weights, expanded for scoring, each part when first needed: a key
    compared one by one (`phrasings`) is often never covered again, so its answer's pairs need not be built."""
    __slots__ = ("_bags", "_phrasings", "_key", "_unis", "_bis", "_index")

    def __init__(self, index: PhrasingIndex, k: _Key):
        codes = k.codes.split(SEP)
        self._unis = [frozenset(c) for c in codes]
        self._bis = [frozenset(_bigrams(c)) for c in codes]
        self._key, self._index, self._phrasings, self._bags = k, index, None, None

    @property
    def bags(self) -> tuple[frozenset, frozenset, frozenset, frozenset]:
        """Syllables and pairs of all its phrasings; those found only in its answer and quotes."""
        if self._bags is None:
            bag_uni, bag_bi = frozenset().union(*self._unis), frozenset().union(*self._bis)
            cu: set[str] = set()
            cb: set[str] = set()
            for code in self._key.context:
                cu |= set(code)
                cb |= _bigrams(code)
            self._bags = (bag_uni, bag_bi, frozenset(cu - bag_uni), frozenset(cb - bag_bi))
        return self._bags

    @property
    def phrasings(self) -> list[tuple[str, frozenset, frozenset, float, float]]:
        """(text, syllables, pairs, their weights) per phrasing: only for the keys compared one by one."""
        if self._phrasings is None:
            idf = self._index._idf_uni
            self._phrasings = [(text, uni, bi, sum(map(idf.__getitem__, uni)),
                                sum(0.5 * (idf[b[0]] + idf[b[1]]) for b in bi) or 1e-9)
                               for text, uni, bi in zip(self._key.texts.split(SEP), self._unis, self._bis,
                                                        strict=True)]
        return self._phrasings


class PhrasingIndex:
    """IDF-weighted, order-free syllable matching over many short texts, each tagged with a key.

    Coverage is measured against everything known for a key (all its phrasings together),
    precision and exactness against its single closest phrasing. `background` texts only
    inform the IDF, so words common in union documents weigh less than words never seen.
    """

    def __init__(self, items: Iterable[tuple[int, Prepared]], background: Iterable[Prepared] = (),
                 context: Iterable[tuple[int, Prepared]] = ()):
        phrasings: dict[int, list[Prepared]] = defaultdict(list)
        for key, prep in items:
            phrasings[key].append(prep)
        ctx: dict[int, list[Prepared]] = defaultdict(list)
        for key, prep in context:
            ctx[key].append(prep)
        self._fill(((k, phrasings.get(k, []), ctx.get(k, [])) for k in sorted(set(phrasings) | set(ctx))),
                   background)

    @classmethod
    def by_key(cls, per_key: Iterable[tuple[int, list[Prepared], list[Prepared]]],
               background: Iterable[Prepared] = ()) -> PhrasingIndex:
        """From (key, phrasings, context) in key order, one key at a time: a big base's normalised texts
        need not all be held at once."""
        index = cls.__new__(cls)
        index._fill(per_key, background)
        return index

    def _fill(self, per_key, background) -> None:
        self._keys: dict[int, _Key] = {}
        self._context: dict[int, tuple[str, ...]] = {}
        self._df: dict[str, int] = defaultdict(int)
        background = [b for b in background if b.code]
        for b in background:
            for c in set(b.code):
                self._df[c] += 1
        self._background = len(background)
        self._post_uni: dict[str, array] = {}
        self._post_bi: dict[str, array] = {}
        for key, phrasings, context in per_key:
            self._context[key] = tuple(p.code for p in context)
            preps = [p for p in phrasings if p.code]
            if preps:
                self._add(key, preps, append=True)
        self._reweigh()

    # ------------------------------------------------------------------ editing
    def update(self, key: int, phrasings: Iterable[Prepared], context: Iterable[Prepared] = ()) -> None:
        """Replaces what is known for one key (an edited or a new entry)."""
        self.remove(key)
        self._context[key] = tuple(p.code for p in context)
        preps = [p for p in phrasings if p.code]
        if preps:
            self._add(key, preps, append=False)
        self._reweigh()

    def remove(self, key: int) -> None:
        """Forgets one key (a retired entry)."""
        self._context.pop(key, None)
        k = self._keys.pop(key, None)
        if k is None:
            return
        bag_uni, bag_bi, _, _ = _Sets(self, k).bags
        for c in bag_uni:
            self._df[c] -= 1
            _discard(self._post_uni, c, key)
        for b in bag_bi:
            _discard(self._post_bi, b, key)
        self._reweigh()

    def _add(self, key: int, preps: list[Prepared], append: bool) -> None:
        k = _Key(SEP.join(p.code for p in preps), SEP.join(p.text for p in preps), self._context.get(key, ()))
        self._keys[key] = k
        codes = k.codes.replace(SEP, "")
        bag_bi: set[str] = set()
        for p in preps:
            bag_bi |= _bigrams(p.code)
        df = self._df
        for c in set(codes):
            df[c] += 1
        for postings, terms in ((self._post_uni, set(codes)), (self._post_bi, bag_bi)):
            if append:                  # building: keys come in order (inline: millions of calls)
                for t in terms:
                    arr = postings.get(t)
                    if arr is None:
                        postings[t] = array("i", (key,))
                    else:
                        arr.append(key)
            else:
                for t in terms:
                    _insert(postings, t, key, append)

    def _reweigh(self) -> None:
        """Weights after the counts changed (every IDF depends on the number of keys)."""
        self._n = max(len(self._keys) + self._background, 1)
        self._unseen = self._idf(0)
        self._idf_uni = _Weights({c: self._idf(d) for c, d in self._df.items() if d > 0}, self._unseen)
        self._common = max(50, int(COMMON_SHARE * len(self._keys)))
        self._cache: OrderedDict[int, _Sets] = OrderedDict()

    def _sets(self, key: int) -> _Sets:
        s = self._cache.get(key)
        if s is None:
            s = self._cache[key] = _Sets(self, self._keys[key])
            if len(self._cache) > KEY_CACHE:
                self._cache.popitem(last=False)
        return s

    # ------------------------------------------------------------------ scoring
    @staticmethod
    def _coverage(q_uni: dict, q_bi: dict, q_uni_total: float, n: int, bag: set, ctx: set,
                  pair_in_bag: Callable[[str], bool], pair_in_ctx: Callable[[str], bool]) -> float:
        """How much of the question (IDF-weighted) a key's phrasings (`bag`: the question's syllables found
        there), answer and quotes (`ctx`: found only there) contain."""
        cov_uni = sum(w * (1.0 if c in bag else CONTEXT_CREDIT if c in ctx else 0.0)
                      for c, w in q_uni.items()) / q_uni_total
        # Contiguity: of the question's pairs whose two syllables both occur for this key, how many
        # occur as a pair. Scattered single syllables are weak evidence; an unmatched syllable inside
        # a phrase ("工匠要认定") is already paid for in cov_uni.
        credited = bag | ctx
        possible = found = 0.0
        for b, w in q_bi.items():
            if b[0] in credited and b[1] in credited:
                possible += w
                if pair_in_bag(b):
                    found += w
                elif pair_in_ctx(b):
                    found += CONTEXT_CREDIT * w
        contiguity = found / possible if possible else (1.0 if n == 1 else 0.0)
        return cov_uni * (0.5 + 0.5 * contiguity)

    def _idf(self, df: int) -> float:
        return math.log((self._n + 1) / (df + 0.5)) + 0.1

    def _w_uni(self, c: str) -> float:
        return self._idf_uni[c]

    def _w_bi(self, b: str) -> float:
        """A pair weighs what its syllables weigh: pairs across word boundaries are mostly unseen,
        and an unseen pair of common syllables ("共有") says nothing about the topic."""
        return 0.5 * (self._w_uni(b[0]) + self._w_uni(b[1]))

    def __len__(self) -> int:
        return sum(k.codes.count(SEP) + 1 for k in self._keys.values())

    def __contains__(self, key: int) -> bool:
        return key in self._keys

    def search(self, query: Prepared, allowed: Container[int] | None = None, limit: int = 10) -> list[Hit]:
        """Best phrasing per key, best first; `allowed` (a set of keys) filters, e.g. by district."""
        code = query.code
        if not code:
            return []
        q_uni, q_bi, _, _ = self._weights(code)
        if len(self._keys) >= NUMPY_KEYS and (allowed is None or isinstance(allowed, np.ndarray)):
            keys = self._candidates(q_uni, q_bi, allowed)
            return self._finish(query, keys, limit)

        # Retrieval: accumulate the question's word weights per key over the postings of its rarer
        # words (a word in most keys tells little and costs most), then score the best keys exactly.
        candidates: dict[int, float] = defaultdict(float)
        for keys, w in self._rare_postings(q_uni, q_bi):
            for key in keys:
                candidates[key] += w
        if isinstance(allowed, np.ndarray):
            candidates = {k: v for k, v in candidates.items() if k < len(allowed) and allowed[k]}
        elif allowed is not None:
            candidates = {k: v for k, v in candidates.items() if k in allowed}
        if len(candidates) > MAX_CANDIDATES:
            keys = heapq.nlargest(MAX_CANDIDATES, candidates, key=candidates.__getitem__)
        else:
            keys = list(candidates)
        return self._finish(query, keys, limit)

    def _rare_postings(self, q_uni: dict, q_bi: dict) -> list[tuple[array, float]]:
        """The postings of the question's rarer words with their weights (bigrams first); a word in most
        keys tells little and costs most. Only common words: the least common one alone."""
        rare, skipped = [], []
        for postings, weights, share in ((self._post_bi, q_bi, 1.0), (self._post_uni, q_uni, 0.5)):
            for term, w in weights.items():
                keys = postings.get(term)
                if not keys:
                    continue
                (skipped if len(keys) > self._common else rare).append((keys, w * share))
        if not rare and skipped:
            rare = [min(skipped, key=lambda t: len(t[0]))]
        return rare

    def _candidates(self, q_uni: dict, q_bi: dict, allowed: np.ndarray | None) -> list[int]:
        """What the loop in `search` finds, with numpy: the same sums (added in the same order) and the
        same order among equals (first found first)."""
        rare = self._rare_postings(q_uni, q_bi)
        lists = [np.frombuffer(keys, dtype=np.int32) for keys, _ in rare]
        weights = [np.full(len(keys), w) for keys, w in rare]
        if not lists:
            return []
        found = np.concatenate(lists)
        keys, first = np.unique(found, return_index=True)
        sums = np.bincount(found, weights=np.concatenate(weights))[keys]
        if allowed is not None:
            ok = keys < len(allowed)
            ok[ok] = allowed[keys[ok]]
            keys, first, sums = keys[ok], first[ok], sums[ok]
        order = np.argsort(first, kind="stable")               # first found first
        keys, sums = keys[order], sums[order]
        if len(keys) > MAX_CANDIDATES:
            top = np.lexsort((np.arange(len(keys)), -sums))[:MAX_CANDIDATES]
            keys = keys[top]
        return keys.tolist()

    def _finish(self, query: Prepared, keys: list[int], limit: int) -> list[Hit]:
        coverage_of = self._coverages(query, keys)
        # Coverage is most of the score: phrasings are compared only for the keys that cover the
        # question best (precision and exactness can reorder those, rarely rescue the rest).
        if len(keys) > EXACT_KEYS:
            keys = heapq.nlargest(EXACT_KEYS, keys, key=coverage_of.__getitem__)
        best = self._exact(query, keys, coverage_of)
        return heapq.nlargest(limit, best.values(), key=lambda h: h.score)

    def score(self, query: Prepared, keys: list[int]) -> dict[int, Hit]:
        """The same score as `search`, for chosen keys (candidates another retriever found)."""
        keys = [k for k in keys if k in self._keys]
        if not query.code or not keys:
            return {}
        return self._exact(query, keys, self._coverages(query, keys))

    def _weights(self, code: str) -> tuple[dict, dict, float, float]:
        q_uni = {c: self._w_uni(c) for c in set(code)}
        q_bi = {b: self._w_bi(b) for b in _bigrams(code)}
        return q_uni, q_bi, sum(q_uni.values()), sum(q_bi.values())

    def _coverages(self, query: Prepared, keys) -> dict[int, float]:
        q_uni, q_bi, q_uni_total, _ = self._weights(query.code)
        n, q_set, cache, out = len(query.code), set(q_uni), self._cache, {}
        for key in keys:
            s = cache.get(key)
            if s is not None:              # its sets, built for an earlier question
                bu, bb, cu, cb = s.bags
                out[key] = self._coverage(q_uni, q_bi, q_uni_total, n, q_set & bu, q_set & cu,
                                          bb.__contains__, cb.__contains__)
                continue
            # Not cached (at 100,000 entries, most candidates): read off its joined strings, since a
            # syllable or a pair occurs in a phrasing iff it is a substring of them. The same float as
            # from the sets; building them would cost more than one question saves.
            codes, context = self._keys[key].codes, self._keys[key].context
            bag = q_set.intersection(codes)
            ctx: set[str] = set()
            for code in context:
                ctx.update(q_set.intersection(code))
            out[key] = self._coverage(q_uni, q_bi, q_uni_total, n, bag, ctx - bag, codes.__contains__,
                                      lambda b, context=context: any(b in code for code in context))
        return out

    def _exact(self, query: Prepared, keys, coverage_of: dict[int, float]) -> dict[int, Hit]:
        """Precision and exactness against each phrasing of each key; the best phrasing per key."""
        q_uni, q_bi, _, q_bi_total = self._weights(query.code)
        q_uni_keys, q_bi_keys = q_uni.keys(), q_bi.keys()
        best: dict[int, Hit] = {}
        for key in keys:
            coverage = coverage_of[key]
            for text, uni, bi, uni_weight, bi_weight in self._sets(key).phrasings:
                m_uni = sum(map(q_uni.__getitem__, uni & q_uni_keys))   # set intersection runs in C
                m_bi = sum(map(q_bi.__getitem__, bi & q_bi_keys))
                precision = 0.5 * m_uni / uni_weight + 0.5 * m_bi / bi_weight if q_bi_total \
                    else m_uni / uni_weight
                exact = fuzz.ratio(query.text, text) / 100.0
                score = 100.0 * (0.55 * coverage + 0.30 * precision + 0.15 * exact)
                hit = best.get(key)
                if hit is None or score > hit.score:
                    best[key] = Hit(key, score, coverage, text)
        return best


class _Weights(dict):
    """IDF by syllable; a syllable never seen weighs most."""

    def __init__(self, items: dict[str, float], unseen: float):
        super().__init__(items)
        self.unseen = unseen

    def __missing__(self, key: str) -> float:
        return self.unseen


def _insert(postings: dict[str, array], term: str, key: int, append: bool) -> None:
    """Postings stay in key order (ties between equal candidates resolve as in a fresh build)."""
    arr = postings.get(term)
    if arr is None:
        postings[term] = array("i", (key,))
    elif append:
        arr.append(key)
    else:
        arr.insert(bisect_left(arr, key), key)


def _discard(postings: dict[str, array], term: str, key: int) -> None:
    arr = postings.get(term)
    if arr is None:
        return
    i = bisect_left(arr, key)
    if i < len(arr) and arr[i] == key:
        del arr[i]
    if not arr:
        del postings[term]
