"""Answer quality on labelled questions: a regression guard for the matcher and the knowledge base.

The thresholds here are floors, set a little under what bench/calibrate.py measured, so a
change that makes answers worse fails the suite.
"""
import json
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

DEV = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"
LABELLED = ROOT / "tests" / "data" / "labelled_questions.jsonl"


def _norm(s):
    return re.sub(r"[\s,，]", "", s or "")


def _rates(engine, path: Path):
    cases = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
    ok_in = ok_out = n_in = n_out = 0
    for c in cases:
        out = engine.answer(c["q"], c.get("district")).to_json()
        if c["ood"]:
            n_out += 1
            ok_out += not out["matched"]
            continue
        n_in += 1
        districts = [out["district"] or ""] + [s["district"] or "" for s in out["sources"]]
        ok_in += (out["matched"] and any(_norm(e) in _norm(out["answer"]) for e in c["expect"])
                  and (not c.get("gold_district") or any(c["gold_district"] in d for d in districts)))
    return ok_in / n_in, ok_out / n_out


def test_labelled_questions(engine):
    answered, rejected = _rates(engine, LABELLED)
    assert answered >= 0.90 and rejected >= 0.95, (answered, rejected)


@pytest.mark.skipif(not DEV.exists(), reason="../shared/eval is not beside the project")
def test_dev_questions(engine):
    answered, rejected = _rates(engine, DEV)
    assert answered >= 0.95 and rejected >= 0.95, (answered, rejected)
