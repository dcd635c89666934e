#!/usr/bin/env python3
"""How the embedding engine's OpenMP threads wait, idle and beside CPU hogs.

    python bench/omp_wait.py [--rounds 1]

Why: one embedding crosses about a hundred OpenMP barriers (several per layer). A thread that
sleeps at each (OMP_WAIT_POLICY=PASSIVE) must be woken a hundred times; one that spins forever
(libgomp's default, 300,000 spins) starves the other thread when the machine is busy. The engine
sets a short spin (knowledge.embedding.SPIN_COUNT); this prints the question embeddings' p50/p99/max
under each setting, on an idle machine and with a CPU hog per core, each setting in its own process
(libgomp reads the setting once, when it loads). The texts are what the hybrid engine embeds for the
short labelled questions and the chatty ones, through the engine's own embedder (its thread choice).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETTINGS = {
    "libgomp default (spin 300k)": {"OMP_WAIT_POLICY": "", "GOMP_SPINCOUNT": ""},
    "passive (never spin)": {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": ""},
    "spin 1,000 (shipped)": {"OMP_WAIT_POLICY": "", "GOMP_SPINCOUNT": "1000"},
    "spin 30,000": {"OMP_WAIT_POLICY": "", "GOMP_SPINCOUNT": "30000"},
}


def measure(rounds: int) -> dict:
    """In a child process: each question set's embedding times (ms), p50/p99/max."""
    import numpy as np

    from bench.labelled import latency_questions
    from bot.live_knowledge import load_categories
    from knowledge.embedding import QUERY, load_embedder
    from knowledge.engine import AnswerEngine
    from knowledge.kbfiles import load_all

    files = load_all()
    reader = AnswerEngine(files.entries(), files.documents, files.synonyms, load_categories()).reader
    embedder = load_embedder()
    out = {}
    for name, qs in latency_questions().items():
        texts = [[reader.read(q).semantic_text] for q in qs]
        for t in texts[:5]:
            embedder.embed(t, QUERY)
        ms = []
        for _ in range(rounds):
            for t in texts:
                t0 = time.perf_counter()
                embedder.embed(t, QUERY)
                ms.append((time.perf_counter() - t0) * 1000)
        out[name] = [float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), max(ms)]
    return out


def child(setting: dict, rounds: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in setting}
    env.update({k: v for k, v in setting.items() if v})
    r = subprocess.run([sys.executable, __file__, "--child", "--rounds", str(rounds)], env=env,
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(measure(args.rounds)))
        return 0
    print(f"{'setting':<28} {'machine':<10} {'short p50/p99/max (ms)':>24} {'chatty p50/p99/max (ms)':>25}")
    for load in ("idle", "2 hogs"):
        hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(os.cpu_count() or 2)] if load != "idle" else []
        try:
            for label, setting in SETTINGS.items():
                r = child(setting, args.rounds)
                cells = ["/".join(f"{v:.0f}" for v in r[k]) for k in ("short", "chatty")]
                print(f"{label:<28} {load:<10} {cells[0]:>24} {cells[1]:>25}", flush=True)
        finally:
            for h in hogs:
                h.kill()
                h.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
