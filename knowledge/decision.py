"""One calibrated decision: answer, offer choices, or decline.

Each fused candidate gets a probability of being the right answer from a logistic
model over the evidence both retrievers give (lexical score and coverage, cosine to
the phrasings and to the answer, how far each lies from the best, district and theme
agreement, how long the message is). The weights and thresholds are fitted by
bench/fit_decision.py on labelled questions and kept in one versioned file,
knowledge/data/decision.json; nothing here is tuned by hand.

Two parameter sets live in that file: `hybrid` (both retrievers) and `lexical` (the
embedding model could not load, so every cosine is missing).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .fusion import Candidate
from .question import Question

PARAMS_PATH = Path(__file__).resolve().parent / "data" / "decision.json"

FEATURES = (
    "lex", "cov", "lex_gap", "lex_top", "lex_ask", "lex_ask_gap", "lex_last", "lex_last_gap",
    "cos", "cos_gap", "cos_ans", "cos_ans_gap", "sem_top", "rrf",
    "keyword", "general", "general_nodistrict", "specific_nodistrict", "own_district", "theme",
    "long", "long_cos", "long_cov", "short",
)
COS_CENTRE, COS_SCALE = 0.85, 0.05       # e5 cosines crowd into 0.75–1.0: centre and stretch them


QUESTION_FEATURES = ("long", "short", "nodistrict", "themed", "other_topic")
# Is the question about something the bot covers at all? Decides, when no candidate is sure enough to
# answer, between offering choices ("补贴", "体检在哪家医院": on topic) and declining ("公积金怎么提取").
TOPIC_FEATURES = ("max_lex", "max_cov", "max_cos", "max_ans", "best_prob", "top3_prob", "themed", "short", "long",
                  "other_topic")


@dataclass
class ModelParams:
    """A conditional-logit model: each candidate's score w·x competes in one softmax with a "none of
    them" score b + v·z (z: question features), so a candidate's probability already accounts for
    its rivals and for the chance that nothing fits (out-of-domain, vague). A logistic topic model
    then tells an on-topic question nothing answers exactly from one about something else."""

    weights: list[float]
    bias: float                              # the "none of them" score's constant
    null_weights: list[float] = field(default_factory=lambda: [0.0] * len(QUESTION_FEATURES))
    topic_weights: list[float] = field(default_factory=lambda: [0.0] * len(TOPIC_FEATURES))
    topic_bias: float = 0.0
    answer: float = 0.5       # answer when the best candidate's probability reaches this
    topic: float = 0.5        # below that, offer choices when the topic model says this at least
    suggest: float = 0.05     # a candidate is worth offering as a choice or a related question from this
    pair: float = 0.0         # an unsure best (below `pair_below`) and a runner-up within this share of its
    pair_below: float = 0.8   # probability, in the same district: the reply gives both (0: never)
    own: float = 0.5          # district known, best is the overview: the district's own entry on the same
                              # theme within this share of its probability answers instead
    detail: float = 0.2       # an on-topic question asking a detail the sources do not give ("在哪家医院")
                              # is answered with the best entry from this, led by "资料没有写明…"
    spread: float = 0.5       # no district known: other districts' entries within this share of the best
                              # probability make the question one for each district, not for one
    cascade: float = 2.0      # hybrid only: a lexical-only decision to answer this sure is taken without
                              # embedding the question (most of an answer's cost); above 1: never

    def probability(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Each candidate's share of the softmax over the candidates and "none of them"."""
        scores = x @ np.asarray(self.weights)
        null = self.bias + float(z @ np.asarray(self.null_weights))
        top = max(float(scores.max()) if len(scores) else null, null)
        e = np.exp(scores - top)
        return e / (e.sum() + np.exp(null - top))

    def topical(self, t: np.ndarray) -> float:
        z = float(t @ np.asarray(self.topic_weights)) + self.topic_bias
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass
class DecisionParams:
    version: int
    hybrid: ModelParams
    lexical: ModelParams
    features: tuple[str, ...] = FEATURES
    meta: dict = field(default_factory=dict)

    def for_mode(self, semantic: bool) -> ModelParams:
        return self.hybrid if semantic else self.lexical

    @classmethod
    def load(cls, path: Path = PARAMS_PATH) -> DecisionParams:
        data = json.loads(path.read_text("utf-8"))
        fitted = (data.get("features"), data.get("question_features"), data.get("topic_features"))
        if fitted != (list(FEATURES), list(QUESTION_FEATURES), list(TOPIC_FEATURES)):
            raise ValueError(f"{path} was fitted for other features than the code computes; "
                             "rerun bench/fit_decision.py")
        return cls(int(data["version"]), ModelParams(**data["hybrid"]), ModelParams(**data["lexical"]),
                   FEATURES, data.get("meta", {}))

    def save(self, path: Path = PARAMS_PATH) -> None:
        data = {"version": self.version, "features": list(FEATURES), "question_features": list(QUESTION_FEATURES),
                "topic_features": list(TOPIC_FEATURES), "hybrid": vars(self.hybrid), "lexical": vars(self.lexical),
                "meta": self.meta}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")


def feature_matrix(question: Question, candidates: list[Candidate], districts: list[str | None],
                   categories: list[str]) -> np.ndarray:
    """One row per candidate, columns in FEATURES order. `districts`/`categories`: each candidate's entry."""
    if not candidates:
        return np.zeros((0, len(FEATURES)))
    max_lex = max(c.lex for c in candidates)
    max_cos = max(c.cos for c in candidates)
    max_ans = max(c.cos_ans for c in candidates)
    max_lex_ask = max(c.lex_ask for c in candidates)
    max_lex_last = max(c.lex_last for c in candidates)
    nodistrict = question.district is None
    long = 1.0 if question.read.is_long else 0.0
    short = 1.0 if question.length <= 3 else 0.0
    rows = []
    for c, district, category in zip(candidates, districts, categories, strict=False):
        cos = (c.cos - COS_CENTRE) / COS_SCALE if c.cos else 0.0
        general = 1.0 if district is None else 0.0
        rows.append((
            c.lex, c.cov, c.lex - max_lex, 1.0 if c.lex_rank == 0 else 0.0, c.lex_ask, c.lex_ask - max_lex_ask,
            c.lex_last, c.lex_last - max_lex_last,
            cos, (c.cos - max_cos) / COS_SCALE, (c.cos_ans - COS_CENTRE) / COS_SCALE if c.cos_ans else 0.0,
            (c.cos_ans - max_ans) / COS_SCALE,
            1.0 if c.sem_rank == 0 else 0.0, 10.0 * c.rrf, c.keyword,
            general, general * nodistrict, (1.0 - general) * nodistrict,
            1.0 if district is not None and district == question.district else 0.0,
            1.0 if category in question.themes else 0.0,
            long, long * cos, long * c.cov, short,
        ))
    return np.asarray(rows, dtype=np.float64)


def question_features(question: Question) -> np.ndarray:
    """What the "none of them" score depends on (QUESTION_FEATURES order)."""
    return np.asarray((1.0 if question.read.is_long else 0.0, 1.0 if question.length <= 3 else 0.0,
                       1.0 if question.district is None else 0.0, 1.0 if question.themes else 0.0,
                       1.0 if question.other_topic else 0.0))


def topic_features(question: Question, candidates: list[Candidate]) -> np.ndarray:
    """TOPIC_FEATURES of a question whose candidates have their probabilities."""
    probs = sorted((c.prob for c in candidates), reverse=True)
    best_cos = max((c.cos for c in candidates), default=0.0)
    best_ans = max((c.cos_ans for c in candidates), default=0.0)
    return np.asarray((
        max((c.lex for c in candidates), default=0.0), max((c.cov for c in candidates), default=0.0),
        (best_cos - COS_CENTRE) / COS_SCALE if best_cos else 0.0,
        (best_ans - COS_CENTRE) / COS_SCALE if best_ans else 0.0,
        probs[0] if probs else 0.0, sum(probs[:3]),
        1.0 if question.themes else 0.0, 1.0 if question.length <= 3 else 0.0, 1.0 if question.read.is_long else 0.0,
        1.0 if question.other_topic else 0.0,
    ))


@dataclass
class Decision:
    outcome: str                     # answer | choices | decline
    ranked: list[Candidate]          # by probability, best first
    topical: float = 0.0             # how surely the question is about something the bot covers

    @property
    def best(self) -> Candidate | None:
        return self.ranked[0] if self.ranked else None


def rank(question: Question, candidates: list[Candidate], districts: list[str | None], categories: list[str],
         model: ModelParams) -> list[Candidate]:
    """Every candidate's probability filled in; best first."""
    if not candidates:
        return []
    probs = model.probability(feature_matrix(question, candidates, districts, categories),
                              question_features(question))
    for c, p in zip(candidates, probs, strict=False):
        c.prob = float(p)
    return sorted(candidates, key=lambda c: -c.prob)


def decide(question: Question, candidates: list[Candidate], districts: list[str | None],
           categories: list[str], model: ModelParams) -> Decision:
    """Probabilities for every candidate, then one of the three outcomes."""
    ranked = rank(question, candidates, districts, categories, model)
    if not ranked:
        return Decision("decline", [], 0.0)
    topical = model.topical(topic_features(question, ranked))
    if ranked[0].prob >= model.answer:
        return Decision("answer", ranked, topical)
    return Decision("choices" if topical >= model.topic else "decline", ranked, topical)
