#!/usr/bin/env python3
"""Fits the answer / choices / decline decision on labelled questions and writes knowledge/data/decision.json.

    python bench/fit_decision.py            # fit, print the reliability table, write the file
    python bench/fit_decision.py --check    # only print how the shipped file does on every set
    python bench/fit_decision.py --thresholds  # keep the models, search the finer thresholds again

What it does:
1. Runs both retrievers on every labelled question (bench/labelled.py: FIT_SETS) and labels each
   fused candidate: would answering with that entry pass the grader?
2. Fits a logistic model over the candidates' features (knowledge/decision.py FEATURES), once with
   the semantic retriever (`hybrid`) and once without it (`lexical`, the fallback when the
   embedding model cannot load).
3. Picks the thresholds (answer, choices, spread) by simulating the whole reply on the fit sets:
   a right answer counts +1, a wrong one -3 (a wrong benefit answer costs a worker money), an
   honest "not found" or a list of choices -1 (a refusal costs trust), an out-of-domain question
   declined +1.
4. Prints a reliability table (predicted probability of the best candidate against how often it
   was right) and the pass rate per set and kind, the held-out sets (HELD_OUT_SETS) included:
   those are never fitted on, so their figure is the honest one.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import defaultdict
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import labelled  # noqa: E402
from bot.live_knowledge import load_categories  # noqa: E402
from knowledge import compose  # noqa: E402
from knowledge.conversation import turn_of  # noqa: E402
from knowledge.decision import (  # noqa: E402
    FEATURES,
    PARAMS_PATH,
    QUESTION_FEATURES,
    TOPIC_FEATURES,
    DecisionParams,
    ModelParams,
    decide,
    feature_matrix,
    question_features,
    rank,
    topic_features,
)
from knowledge.embedding import Vectorizer, default_vectorizer  # noqa: E402
from knowledge.engine import AnswerEngine  # noqa: E402
from knowledge.kbfiles import load_all  # noqa: E402

WRONG, UNSURE, RIGHT = -3.0, -1.0, 1.0
L2 = 1.0


CASCADE_LEVELS = (0.995, 0.99, 0.98, 0.97, 0.95, 0.93, 0.9, 0.85, 0.8)   # tried from the safest down

QUERY_CACHE = ROOT / "data" / "bench-query-vectors.npz"     # questions embedded by earlier fits (not shipped)


class CachedQueries(Vectorizer):
    """Question vectors kept on disk between fits: refitting is then lexical work only."""

    def __init__(self, base: Vectorizer):
        super().__init__(base.embedder, base.stores, query_cache=0)
        self.known: dict[str, np.ndarray] = {}
        if QUERY_CACHE.exists():
            with np.load(QUERY_CACHE, allow_pickle=False) as data:
                self.known = {
                    f"{self.model_id}\x00{t}": v for t, v in zip(data["texts"], data["vectors"], strict=True)}
        self.dirty = False

    def queries(self, texts) -> list[np.ndarray]:
        keys = [f"{self.model_id}\x00{t}" for t in texts]
        missing = [t for t, k in zip(texts, keys, strict=True) if k not in self.known]
        if missing:
            for t, v in zip(missing, super().queries(missing), strict=True):
                self.known[f"{self.model_id}\x00{t}"] = v
            self.dirty = True
        return [self.known[k] for k in keys]

    def save(self) -> None:
        if self.dirty:
            QUERY_CACHE.parent.mkdir(exist_ok=True)
            texts = [k.split("\x00", 1)[1] for k in self.known if k.startswith(self.model_id)]
            np.savez(QUERY_CACHE, texts=np.array(texts),
                     vectors=np.stack([self.known[f"{self.model_id}\x00{t}"] for t in texts]))
            self.dirty = False


_VECTORS: CachedQueries | None = None


def build(semantic: bool, params: DecisionParams) -> AnswerEngine:
    global _VECTORS
    files = load_all()
    vectors = None
    if semantic:
        if _VECTORS is None:
            base = default_vectorizer()
            if base is None:
                raise SystemExit("the embedding model could not load: cannot fit the hybrid decision")
            _VECTORS = CachedQueries(base)
        vectors = _VECTORS
    # No decision cache: the parameters change between the trials of one engine.
    engine = AnswerEngine(files.entries(), files.documents, files.synonyms, load_categories(), vectors=vectors,
                          params=params, decision_cache=0)
    # Retrieval does not depend on the parameters being fitted: run it once per question.
    memo: dict = {}
    retrieve = engine.retrieve

    def cached(q, semantic=True, lexical=None, semantic_hits=None):
        key = (q.raw, q.user_district, q.named, semantic)
        if key not in memo:
            memo[key] = retrieve(q, semantic, lexical, semantic_hits)
        return memo[key]

    engine.retrieve = cached
    passage_memo: dict = {}
    best_passage = engine.passages.best

    def cached_passage(prepared, district, vector=None):
        key = (prepared.code, prepared.text, district)
        if key not in passage_memo:
            passage_memo[key] = best_passage(prepared, district, vector)
        return passage_memo[key]

    engine.passages.best = cached_passage
    return engine


def candidate_rows(engine: AnswerEngine, cases: list[dict]):
    """Features and labels of every candidate of every standalone labelled question.

    Returns X (candidates x features), y (1 where answering with that candidate passes), g (the
    question each candidate belongs to, 0..G-1) and Z (question features, G rows)."""
    X, y, g, Z = [], [], [], []
    for case in cases:
        if case.get("silent") or case.get("session"):
            continue       # judged on the whole reply (aspects, conversation), not on one entry
        q = engine.reader.read(case["q"], case.get("district"))
        if not q.full.code or engine._before_retrieval(q) is not None:
            continue
        r = engine.retrieve(q)
        if not r.candidates:
            continue
        entries = [engine.entries[c.key] for c in r.candidates]
        X.append(feature_matrix(q, r.candidates, [e.district for e in entries], [e.category for e in entries]))
        passes = [not case["ood"] and labelled.grade(
            case, compose.from_entry(e, 100.0, q.district, engine.documents, []).to_json()) is None
            for e in entries]          # a vague question is rightly answered by a cross-district overview
        for e, ok in zip(entries, passes, strict=False):
            y.append(1.0 if ok and preferred(e, entries, passes, q.district) else 0.0)
            g.append(len(Z))
        Z.append(question_features(q))
    return np.vstack(X), np.asarray(y), np.asarray(g), np.vstack(Z)


def preferred(entry, entries, passes, district) -> bool:
    """Of several right entries, the one to answer with: the district's own entry when the district is known
    (it beats the cross-district overview), the overview when it is not (never quietly one district's)."""
    if district is not None and entry.district is None:
        return not any(ok and e.district == district for e, ok in zip(entries, passes, strict=False))
    if district is None and entry.district is not None:
        return not any(ok and e.district is None for e, ok in zip(entries, passes, strict=False))
    return True


def fit_softmax(X: np.ndarray, y: np.ndarray, g: np.ndarray, Z: np.ndarray, l2: float = L2,
                steps: int = 3000) -> tuple[np.ndarray, float, np.ndarray]:
    """The conditional-logit model of knowledge.decision: per question, a softmax over its candidates and
    "none of them"; the right candidates (or "none", when no candidate is right) are the target.
    Convex; Adam on the full batch, L2 on the weights."""
    G, F = len(Z), X.shape[1]
    null_target = np.ones(G)
    np.add.at(null_target, g, -y)
    null_target = (null_target >= 1).astype(float)            # no right candidate: "none" is right
    params = np.zeros(F + 1 + Z.shape[1])
    m = np.zeros_like(params)
    v = np.zeros_like(params)
    lr, b1, b2 = 0.05, 0.9, 0.999
    for t in range(1, steps + 1):
        w, b, u = params[:F], params[F], params[F + 1:]
        s = X @ w
        s0 = b + Z @ u
        gmax = s0.copy()
        np.maximum.at(gmax, g, s)
        es = np.exp(s - gmax[g])
        e0 = np.exp(s0 - gmax)
        denom = e0.copy()
        np.add.at(denom, g, es)
        num = e0 * null_target
        np.add.at(num, g, es * y)
        grad_s = es / denom[g] - es * y / num[g]
        grad_s0 = e0 / denom - e0 * null_target / num
        grad = np.r_[X.T @ grad_s + l2 * w, grad_s0.sum(), Z.T @ grad_s0 + l2 * u] / G
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad * grad
        params -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + 1e-8)
    return params[:F], float(params[F]), params[F + 1:]


def simulate(engine: AnswerEngine, sets: dict[str, list[dict]],
             replies: list | None = None) -> dict[str, dict[str, list[int]]]:
    """Pass counts per set and kind: {set: {kind: [passed, total]}}, and the utility under "_utility";
    `replies`, if given, receives every reply's text, in order."""
    out: dict[str, dict[str, list[int]]] = {}
    for name, cases in sets.items():
        per = defaultdict(lambda: [0, 0])
        utility = 0.0
        turns: dict[str, list] = {}
        for case in cases:
            history = turns.setdefault(case["session"], []) if case.get("session") else []
            answer = engine.answer(case["q"], case.get("district"), tuple(history))
            if case.get("session"):
                history.append(turn_of(case["q"], answer, 0.0))
            a = answer.to_json()
            if replies is not None:
                replies.append(answer.answer)
            ok = labelled.grade(case, a) is None
            k = labelled.kind(case)
            per[k][0] += ok
            per[k][1] += 1
            if ok:
                utility += RIGHT
            elif case["ood"] or (a["matched"] and not case.get("silent")):
                utility += WRONG
            else:
                utility += UNSURE
        per["_utility"] = [utility, len(cases)]
        out[name] = dict(per)
    return out


def reliability(engine: AnswerEngine, cases: list[dict]) -> list[tuple[str, int, float, float]]:
    """Bins of the best candidate's probability: (bin, questions, mean predicted, observed right)."""
    bins = defaultdict(list)
    for case in cases:
        if case.get("silent") or case.get("session") or case.get("vague"):
            continue
        q = engine.reader.read(case["q"], case.get("district"))
        if not q.full.code or engine._before_retrieval(q) is not None:
            continue
        r = engine.retrieve(q)
        if not r.candidates:
            continue
        d = decide(q, r.candidates, [engine._districts[c.key] for c in r.candidates],
                   [engine._categories[c.key] for c in r.candidates], engine.model)
        best = d.best
        out = compose.from_entry(engine.entries[best.key], 100.0, q.district, engine.documents, []).to_json()
        right = (not case["ood"]) and labelled.grade(case, out) is None
        b = min(int(best.prob * 10), 9)
        bins[b].append((best.prob, right))
    rows = []
    for b in range(10):
        items = bins.get(b, [])
        if items:
            rows.append((f"{b / 10:.1f}–{(b + 1) / 10:.1f}", len(items), float(np.mean([p for p, _ in items])),
                         float(np.mean([r for _, r in items]))))
    return rows


def print_results(title: str, results: dict) -> None:
    print(f"\n{title}")
    for name, per in results.items():
        kinds = ", ".join(f"{k} {ok}/{n}" for k, (ok, n) in sorted(per.items()) if not k.startswith("_"))
        total_ok = sum(ok for k, (ok, n) in per.items() if not k.startswith("_"))
        total = sum(n for k, (ok, n) in per.items() if not k.startswith("_"))
        print(f"  {name:<26} {total_ok:>4}/{total:<4} utility {per['_utility'][0]:7.1f}   {kinds}")


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = L2, iters: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method on the L2-regularised log loss (the bias is not regularised)."""
    A = np.hstack([X, np.ones((len(X), 1))])
    w = np.zeros(A.shape[1])
    reg = np.full(A.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-np.clip(A @ w, -30, 30)))
        H = (A * (p * (1 - p))[:, None]).T @ A + np.diag(reg + 1e-9)
        step = np.linalg.solve(H, A.T @ (p - y) + reg * w)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w[:-1], float(w[-1])


def topic_rows(engine: AnswerEngine, cases: list[dict], model: ModelParams):
    """Question-level topic features (after ranking with `model`) and whether the question is in-domain."""
    T, y = [], []
    for case in cases:
        q = engine.reader.read(case["q"], case.get("district"))
        if not q.full.code or engine._before_retrieval(q) is not None:
            continue
        r = engine.retrieve(q)
        ranked = rank(q, r.candidates, [engine._districts[c.key] for c in r.candidates],
                      [engine._categories[c.key] for c in r.candidates], model)
        T.append(topic_features(q, ranked))
        y.append(0.0 if case["ood"] else 1.0)
    return np.vstack(T), np.asarray(y)


def fit_mode(semantic: bool, params: DecisionParams, fit_sets: dict[str, list[dict]]) -> ModelParams:
    engine = build(semantic, params)
    cases = [c for cs in fit_sets.values() for c in cs]
    t0 = time.perf_counter()
    X, y, g, Z = candidate_rows(engine, cases)
    if _VECTORS is not None:
        _VECTORS.save()
    w, b, u = fit_softmax(X, y, g, Z)
    model = ModelParams(list(map(float, w)), b, list(map(float, u)))
    T, ty = topic_rows(engine, cases, model)
    tw, tb = fit_logistic(T, ty)
    model = replace(model, topic_weights=list(map(float, tw)), topic_bias=tb)
    print(f"[{'hybrid' if semantic else 'lexical'}] {len(X)} candidates of {len(Z)} questions, "
          f"{int(y.sum())} right; fitted in {time.perf_counter() - t0:.1f} s")
    for name, weight in zip(FEATURES, w, strict=False):
        print(f"    {name:<22} {weight:+.3f}")
    print(f"    none-of-them: {b:+.3f} "
          + " ".join(f"{n} {x:+.3f}" for n, x in zip(QUESTION_FEATURES, u, strict=True)))
    print(f"    topic: {tb:+.3f} " + " ".join(f"{n} {x:+.3f}" for n, x in zip(TOPIC_FEATURES, tw, strict=False)))
    best = search_thresholds(engine, replace(model, spread=0.5, detail=0.2, own=0.0), fit_sets, STAGES)
    if semantic:
        best = (best[0], replace(best[1], cascade=choose_cascade(engine, best[1], fit_sets)))
    if _VECTORS is not None:
        _VECTORS.save()
    print(f"    thresholds: answer {best[1].answer}, topic {best[1].topic}, spread {best[1].spread}, "
          f"detail {best[1].detail}, own {best[1].own}, pair {best[1].pair}, cascade {best[1].cascade} "
          f"(utility {best[0]:.1f})")
    return best[1]


# Coordinate search: the thresholds that matter most first, then the finer ones given those. In each grid
# the first value is kept on a tie: `own` 0.0 is the rule of the issue (a district's own entry always beats
# the cross-district overview, when the district is known) unless labelled questions say otherwise.
STAGES = ({"answer": (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5), "topic": (0.3, 0.5), "pair": (0.0, 0.4, 0.6)},
          {"spread": (0.5, 0.7), "detail": (0.2, 0.3), "own": (0.0, 0.3, 0.6)})


def search_thresholds(engine: AnswerEngine, model: ModelParams, fit_sets, stages) -> tuple[float, ModelParams]:
    """The thresholds of `stages` with the most utility on the fit sets, the model's weights kept."""
    best = (float("-inf"), model)
    for stage in stages:
        names = list(stage)
        start = best[1]
        for values in itertools.product(*stage.values()):
            trial = replace(start, **dict(zip(names, values, strict=False)))
            trial = replace(trial, detail=min(trial.detail, trial.answer))
            engine.model = trial
            res = simulate(engine, fit_sets)
            utility = sum(per["_utility"][0] for per in res.values())
            if utility > best[0]:
                best = (utility, trial)
    engine.model = best[1]
    return best


def choose_cascade(engine: AnswerEngine, model: ModelParams, fit_sets) -> float:
    """The lowest lexical-only probability from which the hybrid engine may answer without embedding the
    question and still give every fit-set question the very reply it gives with the embedding: a pure
    speed-up, not a change of behaviour (the lexical model must be fitted first: engine.params)."""
    engine.model = replace(model, cascade=2.0)
    baseline: list[str] = []
    simulate(engine, fit_sets, baseline)
    unchanged: list[float] = []
    for level in CASCADE_LEVELS:
        engine.model = replace(model, cascade=level)
        replies: list[str] = []
        simulate(engine, fit_sets, replies)
        changed = sum(a != b for a, b in zip(replies, baseline, strict=True))
        if changed:
            print(f"    cascade {level}: {changed} replies would change; stopped")
            break
        unchanged.append(level)
    # One step of margin: the lowest level that changes nothing here sits next to one that does, and
    # questions never seen (held-out) found that edge a step earlier.
    chosen = unchanged[-2] if len(unchanged) >= 2 else 2.0
    engine.model = replace(model, cascade=chosen)
    cases = [c for cs in fit_sets.values() for c in cs]
    skipped = sum(engine._sure_without_embedding(engine.reader.read(c["q"], c.get("district"))) is not None
                  for c in cases)
    print(f"    cascade: lexical-only answers from probability {chosen} on ({skipped}/{len(cases)} fit-set "
          f"questions need no embedding, every reply unchanged)")
    return chosen


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="only report how the shipped parameters do")
    ap.add_argument("--cascade", action="store_true",
                    help="keep the shipped models, fit only the level at which the embedding is skipped")
    ap.add_argument("--thresholds", action="store_true",
                    help="keep the shipped models and their main thresholds, search only the finer ones again")
    args = ap.parse_args()
    fit_sets = {p.name: labelled.load(p) for p in labelled.FIT_SETS if p.exists()}
    held_out = {p.name: labelled.load(p) for p in labelled.HELD_OUT_SETS if p.exists()}
    if args.check:
        params = DecisionParams.load()
    elif args.thresholds:
        params = DecisionParams.load()
        fitted = {}
        for semantic, model in ((False, params.lexical), (True, params.hybrid)):
            utility, fitted[semantic] = search_thresholds(build(semantic, params), model, fit_sets, STAGES[1:])
            print(f"[{'hybrid' if semantic else 'lexical'}] spread {fitted[semantic].spread}, detail "
                  f"{fitted[semantic].detail}, own {fitted[semantic].own} (utility {utility:.1f})")
        params = DecisionParams(params.version + 1, fitted[True], fitted[False], FEATURES, {
            **params.meta, "thresholds_fitted": date.today().isoformat()})
        params.save()
        print(f"\nwrote {PARAMS_PATH.relative_to(ROOT)} (version {params.version})")
    elif args.cascade:
        params = DecisionParams.load()
        engine = build(True, params)
        hybrid = replace(params.hybrid, cascade=choose_cascade(engine, params.hybrid, fit_sets))
        params = DecisionParams(params.version + 1, hybrid, params.lexical, FEATURES, {
            **params.meta, "cascade_fitted": date.today().isoformat()})
        params.save()
        print(f"\nwrote {PARAMS_PATH.relative_to(ROOT)} (version {params.version}, cascade {hybrid.cascade})")
    else:
        zero = ModelParams([0.0] * len(FEATURES), 0.0)
        params = DecisionParams(0, zero, zero)
        lexical = fit_mode(False, params, fit_sets)       # first: the hybrid engine's cascade uses it
        hybrid = fit_mode(True, DecisionParams(0, zero, lexical), fit_sets)
        old = DecisionParams.load().version if PARAMS_PATH.exists() else 0
        params = DecisionParams(old + 1, hybrid, lexical, FEATURES, {
            "fitted": date.today().isoformat(), "by": "bench/fit_decision.py",
            "fit_sets": sorted(fit_sets), "questions": sum(len(c) for c in fit_sets.values())})
        params.save()
        print(f"\nwrote {PARAMS_PATH.relative_to(ROOT)} (version {params.version})")
    for semantic in (True, False):
        engine = build(semantic, params)
        label = "hybrid" if semantic else "lexical-only"
        print_results(f"{label}: fit sets", simulate(engine, fit_sets))
        if held_out:
            print_results(f"{label}: held-out sets (never fitted on)", simulate(engine, held_out))
        if semantic:
            print("\nreliability of the best candidate (fit sets):")
            print(f"  {'p':<9} {'n':>5} {'predicted':>10} {'observed':>9}")
            for name, n, pred, obs in reliability(engine, [c for cs in fit_sets.values() for c in cs]):
                print(f"  {name:<9} {n:>5} {pred:>10.2f} {obs:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
