#!/usr/bin/env python3
"""Picks the match threshold from labelled questions instead of guessing.

    python bench/calibrate.py [--cases FILE ...] [--show-failures]

For each labelled set (the shared dev questions and tests/data/labelled_questions.jsonl)
it answers every question once, then sweeps the score threshold and prints how many
in-domain questions would be answered correctly and how many out-of-domain ones
rejected. Thresholds do not transfer between scorers: rerun this after changing the
matcher or growing the knowledge base, and update knowledge/engine.py.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.setup import open_app  # noqa: E402
from knowledge import engine as engine_mod  # noqa: E402

DEFAULT_CASES = [ROOT.parent / "shared" / "eval" / "dev_questions.jsonl",
                 ROOT / "tests" / "data" / "labelled_questions.jsonl"]


def _norm(s: str) -> str:
    return re.sub(r"[\s,，]", "", s or "")


def correct(case: dict, out: dict) -> bool:
    """The grading rule of shared/eval/grade.py."""
    if case["ood"]:
        return not out["matched"]
    if not out["matched"] or not any(_norm(e) in _norm(out["answer"]) for e in case["expect"]):
        return False
    gold = case.get("gold_district")
    districts = [out.get("district") or ""] + [s.get("district") or "" for s in out["sources"]]
    return not gold or any(gold in d for d in districts)


def run(cases: list[dict], engine) -> tuple[float, float, list]:
    ok_in = ok_out = n_in = n_out = 0
    failures = []
    for c in cases:
        out = engine.answer(c["q"], c.get("district")).to_json()
        good = correct(c, out)
        if c["ood"]:
            n_out += 1
            ok_out += good
        else:
            n_in += 1
            ok_in += good
        if not good:
            failures.append((c, out))
    return ok_in / max(n_in, 1), ok_out / max(n_out, 1), failures


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--cases", nargs="*", default=[str(c) for c in DEFAULT_CASES if c.exists()])
    p.add_argument("--show-failures", action="store_true")
    args = p.parse_args()
    app = open_app(load_settings(DATABASE_URL="sqlite:///:memory:"))
    engine = app.knowledge.engine
    sets = {Path(f).name: [json.loads(x) for x in open(f, encoding="utf-8") if x.strip()] for f in args.cases}

    base, base_cov = engine_mod.MATCH_SCORE, engine_mod.MATCH_COVERAGE
    print(f"{'score':>6} {'cover':>6}  " + "  ".join(f"{name[:24]:>24}" for name in sets))
    for t in [base - 6, base - 3, base, base + 3, base + 6]:
        for cov in [base_cov - 0.1, base_cov - 0.05, base_cov, base_cov + 0.05]:
            engine_mod.MATCH_SCORE, engine_mod.MATCH_COVERAGE = t, cov
            cols = []
            for cases in sets.values():
                a, r, _ = run(cases, engine)
                cols.append(f"{a:6.1%} ans {r:6.1%} rej")
            mark = " <- shipped" if (t, cov) == (base, base_cov) else ""
            print(f"{t:6.1f} {cov:6.2f}  " + "  ".join(f"{c:>24}" for c in cols) + mark)
    engine_mod.MATCH_SCORE, engine_mod.MATCH_COVERAGE = base, base_cov
    if args.show_failures:
        for name, cases in sets.items():
            _, _, failures = run(cases, engine)
            print(f"\n# {name}: {len(failures)} failures at {base}")
            for c, out in failures:
                what = "claimed" if c["ood"] else ("no match" if not out["matched"] else "wrong")
                print(f"  [{what}] {c['q']} [{c.get('district') or '-'}] exp={c['expect']} "
                      f"gold={c.get('gold_district')} -> {out['faq_id'] or out['kind']} {out['score']:.1f} "
                      f"{out['answer'][:50]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
