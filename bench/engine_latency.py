#!/usr/bin/env python3
"""Engine latency per question, at the shipped size and with 10,000 synthetic entries.

    python bench/engine_latency.py [--entries 10000] [--rounds 3]

Prints median and p99 per question for the engine, beside plain
`rapidfuzz.process.extractOne` over all question strings measured in the same
run, and the ratio between them. Targets (issue "Answer engine"): p99 under
5 ms at the shipped size, under 10 ms at 10,000 entries.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import process  # noqa: E402

from bot.live_knowledge import load_categories  # noqa: E402
from knowledge.engine import AnswerEngine  # noqa: E402
from knowledge.kbfiles import load_all  # noqa: E402


def questions() -> list[str]:
    path = ROOT / "tests" / "data" / "labelled_questions.jsonl"
    return [json.loads(x)["q"] for x in path.read_text("utf-8").splitlines() if x.strip()]


def synthetic(entries, n: int, seed: int = 7):
    """n entries made by recombining the shipped phrasings with extra words, so postings grow
    the way a real, larger knowledge base's would (same vocabulary, more entries)."""
    rng = random.Random(seed)
    phrasings = [p for e in entries for p in (e.question, *e.alternates)]
    vocab = sorted({ch for p in phrasings for ch in p if "\u4e00" <= ch <= "\u9fff"})
    out = list(entries)
    while len(out) < n:
        base = rng.choice(entries)
        extra = lambda: "".join(rng.choice(vocab) for _ in range(rng.randint(2, 4)))  # noqa: E731
        alts = [rng.choice(phrasings) + extra() for _ in range(5)]
        out.append(replace(base, id=f"synthetic.{len(out)}", question=extra() + base.question + extra(),
                           alternates=alts, keywords=[extra()]))
    return out


def timed(fn, items, rounds: int) -> list[float]:
    """Steady-state latency: one untimed round first fills the per-character pinyin cache."""
    for q in items:
        fn(q)
    samples = []
    for _ in range(rounds):
        for q in items:
            t0 = time.perf_counter()
            fn(q)
            samples.append((time.perf_counter() - t0) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--entries", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    files = load_all()
    cats = load_categories()
    qs = questions()
    print(f"{len(qs)} questions x {args.rounds} rounds")
    print(f"{'knowledge base':>22} {'engine p50':>11} {'engine p99':>11} {'extractOne p50':>15} "
          f"{'extractOne p99':>15} {'p99 ratio':>10}")
    ok = True
    for label, entries, target in (("shipped", files.entries(), 5.0),
                                   (f"synthetic {args.entries}", synthetic(files.entries(), args.entries), 10.0)):
        t0 = time.perf_counter()
        engine = AnswerEngine(entries, files.documents, files.synonyms, cats)
        build = time.perf_counter() - t0
        choices = [q for e in entries for q in (e.question, *e.alternates)]
        e50, e99 = summary(timed(engine.answer, qs, args.rounds))
        b50, b99 = summary(timed(partial(process.extractOne, choices=choices), qs, args.rounds))
        ok &= e99 < target
        print(f"{label + f' ({len(entries)})':>22} {e50:9.2f}ms {e99:9.2f}ms {b50:13.2f}ms {b99:13.2f}ms "
              f"{e99 / b99:9.2f}x   index built in {build:.2f}s, p99 target {target:.0f}ms "
              f"{'met' if e99 < target else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
