"""Labelled question sets and the grading rule of ../shared/eval/grade.py, for the benches.

Kept in step with grade.py by hand (it is not importable: it lives outside the project and
may be absent); tests/test_answer_quality.py uses the same rule.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "eval"
DATA = ROOT / "tests" / "data"

SILENCE_MARKERS = ("没有写", "没有提到", "没有列出", "没有说明", "没有公布", "没有给出", "未写明", "未提及",
                   "未列出", "没有具体", "没写", "没提到", "没有明确", "并未")
OUT_OF_SCOPE = "超出了我能回答的范围"

# What the decision is fitted on, and what is kept apart to report honestly.
FIT_SETS = [SHARED / "dev_questions.jsonl", SHARED / "dev2_questions.jsonl", DATA / "labelled_questions.jsonl",
            DATA / "holdout_questions.jsonl", DATA / "chat_questions.jsonl"]
HELD_OUT_SETS = [DATA / "chat_holdout.jsonl"]


def norm(s: str | None) -> str:
    return re.sub(r"[\s,，]", "", s or "")


def load(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]


def kind(case: dict) -> str:
    return case.get("kind") or ("ood" if case["ood"] else "plain")


def grade(case: dict, out: dict) -> str | None:
    """None when the case passes, else a short reason (grade.py's rule)."""
    answer = norm(out.get("answer", ""))
    if case.get("silent"):
        if OUT_OF_SCOPE in answer:
            return "declined as out of scope"
        if not any(m in answer for m in SILENCE_MARKERS):
            return "does not say the sources are silent"
        if case["expect"] and not any(norm(e) in answer for e in case["expect"]):
            return "lacks the topic"
        return None
    if case.get("vague"):
        districts = {s.get("district") for s in out.get("sources") or [] if s.get("district")}
        if len(out.get("suggestions") or []) >= 2 or len(districts) >= 2:
            return None
        return f"picked one entry ({out.get('faq_id')}) for a vague question"
    if case["ood"]:
        return None if not out.get("matched") else "claimed a match"
    if not out.get("matched"):
        return "no match"
    if not any(norm(e) in answer for e in case["expect"]):
        return "answer lacks the expected fact"
    gold = case.get("gold_district")
    if gold:
        districts = [out.get("district") or ""] + [s.get("district") or "" for s in out.get("sources") or []]
        if not any(gold in d for d in districts):
            return "wrong district"
    return None


def latency_questions() -> dict[str, list[str]]:
    """What the latency benches time: the short labelled questions, and the chatty messages of 60+ characters."""
    chat = [c["q"] for c in load(DATA / "chat_questions.jsonl")]
    return {"short": [c["q"] for c in load(DATA / "labelled_questions.jsonl")],
            "chatty": [q for q in chat if len(q) >= 60]}
