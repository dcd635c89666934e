"""Fusing the two retrievers' candidates into one list, each with the evidence both give.

The lexical matcher is precise on clean questions and typos; the semantic one bridges
unseen words and reads chatty messages whole. Candidates are the union of both top
lists; every candidate is then scored by both (a key one retriever missed still gets
the other's number), and the decision step (knowledge.decision) weighs that evidence.
Reciprocal-rank fusion orders the candidates before the decision model has spoken.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matcher import Hit

RRF_K = 10.0
NO_RANK = 99


@dataclass
class Candidate:
    key: int
    lex: float = 0.0          # best lexical score over the question's variants, 0–1
    cov: float = 0.0          # best lexical coverage, 0–1
    lex_rank: int = NO_RANK   # rank in the lexical list (0 = best)
    cos: float = 0.0          # best cosine between the question and the key's phrasings
    cos_ans: float = 0.0      # cosine between the question and the key's answer
    lex_ask: float = 0.0      # lexical score of the asking clauses alone (a short question: all of it)
    lex_last: float = 0.0     # lexical score of the last asking clause alone (likewise)
    keyword: float = 0.0      # the question names one of the key's keywords: 1 / how many keys share it
    sem_rank: int = NO_RANK
    phrasing: str = ""
    prob: float = 0.0         # filled in by the decision model

    @property
    def rrf(self) -> float:
        return 1.0 / (RRF_K + self.lex_rank) + 1.0 / (RRF_K + self.sem_rank)


def best_lexical(hit_lists: list[dict[int, Hit]]) -> dict[int, Hit]:
    """Per key, the best hit over the question's variants (whole message, focus, asking clauses)."""
    best: dict[int, Hit] = {}
    for hits in hit_lists:
        for key, h in hits.items():
            old = best.get(key)
            if old is None or h.score > old.score:
                best[key] = h if old is None or h.coverage >= old.coverage else Hit(key, h.score, old.coverage,
                                                                                   h.phrasing)
            elif h.coverage > old.coverage:
                best[key] = Hit(key, old.score, h.coverage, old.phrasing)
    return best


def fuse(lexical: dict[int, Hit], cos: np.ndarray | None, cos_ans: np.ndarray | None,
         keys: list[int]) -> list[Candidate]:
    """One candidate per key, with both retrievers' evidence, in reciprocal-rank-fusion order."""
    lex_order = sorted(lexical.values(), key=lambda h: -h.score)
    lex_rank = {h.key: i for i, h in enumerate(lex_order)}
    sem_rank: dict[int, int] = {}
    if cos is not None and keys:
        order = sorted(keys, key=lambda k: -float(cos[k]))
        sem_rank = {k: i for i, k in enumerate(order)}
    out = []
    for key in keys:
        h = lexical.get(key)
        out.append(Candidate(
            key=key,
            lex=h.score / 100.0 if h else 0.0,
            cov=h.coverage if h else 0.0,
            lex_rank=lex_rank.get(key, NO_RANK),
            cos=float(cos[key]) if cos is not None else 0.0,
            cos_ans=float(cos_ans[key]) if cos_ans is not None else 0.0,
            sem_rank=sem_rank.get(key, NO_RANK),
            phrasing=h.phrasing if h else "",
        ))
    out.sort(key=lambda c: -c.rrf)
    return out
