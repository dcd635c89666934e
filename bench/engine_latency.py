#!/usr/bin/env python3
"""Engine latency and cost, the hybrid engine beside the lexical-only one in the same run.

    python bench/engine_latency.py                 # shipped knowledge base: latency, one-shot ask, cold embedding
    python bench/engine_latency.py --entries 100000  # also a synthetic knowledge base of that size

Prints, at the shipped size:
- p50/p99 per question (the question's embedding included: no query cache) for the hybrid engine
  and for the lexical-only engine, over short labelled questions and long chatty ones;
- one-shot `run_bot.py ask` wall time and peak memory (warm embedding cache), both engines;
- the cost of embedding the shipped knowledge base cold (per text, and in all).
Targets (issue "Understand workers the way they really write"): p99 <= 50 ms, one-shot ask <= 2 s and
<= 400 MB. With --entries (issue "Scale", at 100,000): index built in <= 60 s, peak <= 1.5 GB, p99 <= 50 ms,
an admin's edit re-indexed in <= 1 s, for the hybrid engine (lexical-only printed beside it).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.labelled import latency_questions  # noqa: E402
from bot.live_knowledge import load_categories  # noqa: E402
from knowledge.embedding import PASSAGE, QUERY, SeedVectors, Vectorizer, load_embedder, seed_path  # noqa: E402
from knowledge.engine import AnswerEngine  # noqa: E402
from knowledge.kbfiles import load_all  # noqa: E402

P99_TARGET_MS, ASK_SECONDS, ASK_MB = 50.0, 2.0, 400.0
BUILD_S, PEAK_MB, EDIT_MS = 60.0, 1536.0, 1000.0     # at --entries 100000 (issue "Scale")


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


def one_shot_ask(embedding_model: str, database: Path) -> tuple[float, float]:
    """Wall seconds and peak MB of `python run_bot.py ask` in a fresh process (the database already set up)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "EMBEDDING_MODEL": embedding_model}
    cmd = [sys.executable, str(ROOT / "run_bot.py"), "ask", "--json", "你好，我是送外卖的，想问问临平读大专有补贴吗"]
    subprocess.run(cmd, env=env, capture_output=True, check=True)        # migrate and import once, untimed
    t0 = time.perf_counter()
    # A child per measurement: RUSAGE_CHILDREN's peak is the largest child so far.
    wrapper = [sys.executable, "-c",
               "import resource,subprocess,sys;subprocess.run(sys.argv[1:],capture_output=True,check=True);"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)", *cmd]
    out = subprocess.run(wrapper, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, int(out.stdout.strip()) / 1024


def scale_section(n: int) -> bool:
    """Both engines at a synthetic size, each in its own process (bench/scale.py) so each peak is its own."""
    print(f"\n== synthetic knowledge base, {n} entries (warm embedding cache: synthetic vectors, "
          "see bench/scale.py) ==")
    print(f"machine load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min), "
          f"{os.cpu_count()} cores")
    runs = {}
    for mode in ("hybrid", "lexical"):
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "scale.py"), mode, str(n)],
                             capture_output=True, text=True, check=True)
        runs[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    h, lx = runs["hybrid"], runs["lexical"]
    rows = [("index built (s)", "build_s", "{:.1f}", BUILD_S),
            ("peak memory (MB)", "peak_mb", "{:.0f}", PEAK_MB)]
    print(f"{'':<28} {'hybrid':>10} {'lexical-only':>13}   target (hybrid)")
    good = True
    for label, key, fmt, target in rows:
        met = h[key] <= target
        good &= met
        print(f"{label:<28} {fmt.format(h[key]):>10} {fmt.format(lx[key]):>13}   <= {target:.0f} "
              f"{'met' if met else 'MISSED'}")
    for name in ("short", "chatty"):
        for i, p in enumerate(("p50", "p99")):
            met = i == 0 or h[name][1] <= P99_TARGET_MS
            good &= met
            print(f"{f'{name} {p} (ms)':<28} {h[name][i]:>10.1f} {lx[name][i]:>13.1f}"
                  + (f"   <= {P99_TARGET_MS:.0f} {'met' if met else 'MISSED'}" if i else ""))
    for edit in ("change", "add", "remove"):
        met = h["edit_ms"][edit] <= EDIT_MS
        good &= met
        print(f"{f'edit re-indexed: {edit} (ms)':<28} {h['edit_ms'][edit]:>10.0f} {lx['edit_ms'][edit]:>13.0f}"
              f"   <= {EDIT_MS:.0f} {'met' if met else 'MISSED'}")
    c = h["cold"]
    print(f"per question: retrieval and decision with the question's embedding cached and no decision cache; "
          f"embedding a question adds {h['embed_ms']['short']:.0f} ms (short) / {h['embed_ms']['chatty']:.0f} ms "
          f"(chatty), the same at any size")
    print(f"built cold (embedding every text for real): {c['phrasing_ms']:.1f} ms per phrasing, "
          f"{c['answer_ms']:.1f} ms per answer (sample of 50 and 10) -> about {c['cold_s'] / 60:.0f} min for "
          f"{c['phrasings']:.0f} phrasings and {n} answers; once, then cached")
    return good


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--entries", type=int, default=0, help="also measure a synthetic knowledge base this big")
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    files = load_all()
    cats = load_categories()
    embedder = load_embedder()
    if embedder is None:
        print("the embedding model cannot load here: nothing to compare")
        return 1
    ok = True
    sets = {f"{name} ({'labelled' if name == 'short' else '60-150 chars'})": qs
            for name, qs in latency_questions().items()}

    print("== per question, shipped knowledge base (query embedding included, no query cache) ==")
    seed = SeedVectors(seed_path(embedder.model_id))
    # no caches of questions: neither their embeddings nor the engine's decisions on them
    hybrid = AnswerEngine(files.entries(), files.documents, files.synonyms, cats,
                          vectors=Vectorizer(embedder, [seed], query_cache=0), decision_cache=0)
    lexical = AnswerEngine(files.entries(), files.documents, files.synonyms, cats, decision_cache=0)
    print(f"machine load: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    print(f"{'questions':<24} {'hybrid p50':>11} {'hybrid p99':>11} {'lexical p50':>12} {'lexical p99':>12}"
          f" {'embedding p50':>14} {'embedding p99':>14}")
    for name, qs in sets.items():
        h50, h99 = summary(timed(hybrid.answer, qs, args.rounds))
        l50, l99 = summary(timed(lexical.answer, qs, args.rounds))
        # The same questions' embedding alone (what the hybrid engine embeds for each): the part of the
        # hybrid figure that is the model's, and that moves with the machine's speed.
        texts = {q: [hybrid.reader.read(q).semantic_text] for q in qs}
        e50, e99 = summary(timed(lambda q: embedder.embed(texts[q], QUERY), qs, args.rounds))  # noqa: B023
        ok &= h99 <= P99_TARGET_MS
        print(f"{name + f' ({len(qs)})':<24} {h50:9.1f}ms {h99:9.1f}ms {l50:10.1f}ms {l99:10.1f}ms"
              f" {e50:12.1f}ms {e99:12.1f}ms"
              f"   target p99 <= {P99_TARGET_MS:.0f}ms {'met' if h99 <= P99_TARGET_MS else 'MISSED'}")

    print("\n== one-shot `run_bot.py ask` (fresh process, warm embedding cache) ==")
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for model in ("e5", "off"):
            seconds, mb = one_shot_ask(model, Path(tmp) / f"{model}.db")
            good = seconds <= ASK_SECONDS and mb <= ASK_MB
            ok &= good or model == "off"
            label = "hybrid" if model == "e5" else "lexical-only"
            print(f"{label:<14} {seconds:5.2f} s  peak {mb:5.0f} MB   target <= {ASK_SECONDS:.0f} s and "
                  f"<= {ASK_MB:.0f} MB {'met' if good else 'MISSED'}")

    print("\n== embedding the shipped knowledge base cold ==")
    texts = ([t for e in files.entries() for t in dict.fromkeys((e.question, *e.alternates))], QUERY), \
            ([e.answer for e in files.entries()], PASSAGE), \
            ([s for _, s in hybrid.passages._items], PASSAGE)
    total = sum(len(t) for t, _ in texts)
    sample = [(t, role) for ts, role in texts for t in ts[:: max(1, len(ts) // 60)]]
    t0 = time.perf_counter()
    for text, role in sample:
        embedder.embed([text], role)
    per = (time.perf_counter() - t0) / len(sample)
    print(f"{total} texts (phrasings, answers, source sentences): {per * 1000:.1f} ms each over a sample of "
          f"{len(sample)}, about {per * total:.0f} s in all; done once, then cached (seed file, database table)")

    if args.entries:
        ok &= scale_section(args.entries)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nthis process peaked at {peak:.0f} MB; {'all targets met' if ok else 'a target was MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
