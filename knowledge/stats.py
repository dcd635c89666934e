"""`kb stats`: how the knowledge base covers the districts, the themes and the documents."""
from __future__ import annotations

import re
from collections import Counter

from .engine import AnswerEngine
from .passages import sentences
from .validate import squash

SHINGLE = 8                                   # characters a quote must share with a sentence to cite it
_FACT = re.compile(r"\d|“[^”]{2,20}”")        # a number or a named programme ("小哥学院")


def uncited_fact_sentences(engine: AnswerEngine) -> tuple[list[tuple[str, str]], int]:
    """Source sentences with a number or programme name that no entry quotes; and how many there are."""
    shingles: set[str] = set()
    for e in engine.entries:
        for s in e.sources:
            q = squash(s.quote)
            shingles.update(q[i:i + SHINGLE] for i in range(max(1, len(q) - SHINGLE + 1)))
    uncited, total = [], 0
    for doc in engine.documents.values():
        for sentence in sentences(doc.union_text()):
            if not _FACT.search(sentence):
                continue
            total += 1
            if not any(sentence[i:i + SHINGLE] in shingles for i in range(max(1, len(sentence) - SHINGLE + 1))):
                uncited.append((doc.district or doc.id, sentence))
    return uncited, total


def coverage_report(engine: AnswerEngine, show_uncited: int = 15) -> str:
    lines = [f"知识库版本 {engine.version}：{len(engine.entries)} 条有效问答", "", "按区县："]
    by_district = Counter(e.district or "全部区县/通用" for e in engine.entries)
    for name, n in sorted(by_district.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {name:<10} {n:>4}")
    lines += ["", "按分类："]
    by_cat = Counter(e.category for e in engine.entries)
    for cat in engine.categories:
        lines.append(f"  {cat['name']:<10} {by_cat.get(cat['name'], 0):>4}")
    uncited, total = uncited_fact_sentences(engine)
    share = len(uncited) / total if total else 0.0
    lines += ["", f"含数字或项目名称的原文句子：{total} 句，未被任何条目引用：{len(uncited)} 句（{share:.1%}）"]
    for district, sentence in uncited[:show_uncited]:
        lines.append(f"  - [{district}] {sentence[:70]}")
    return "\n".join(lines)
