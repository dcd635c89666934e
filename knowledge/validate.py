"""Checks that every FAQ entry is well formed and traceable to its source.

The schema is checked here; the facts of the answer (numbers with their units, years, money
words, districts, tense, the quotes themselves) by knowledge.facts. Errors stop an import or an
admin edit; warnings are where a rule could not decide, listed and failed on by
`kb validate --strict`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .districts import require_district
from .facts import ERROR, WARNING, FactChecker
from .facts.sources import squash
from .kbfiles import LINE_KEY
from .model import SourceDocument

ID_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,80}$")
MIN_ALTERNATES = 4
REQUIRED = ("id", "district", "category", "question", "alternates", "keywords", "answer", "sources")


@dataclass
class Problem:
    where: str     # "linping.yaml:12" or "第 3 行"
    entry: str     # entry id, if known
    message: str
    level: str = ERROR
    field: str | None = None   # the field at fault ("answer", "sources.0.quote"); None: the entry as a whole

    def __str__(self) -> str:
        who = f" [{self.entry}]" if self.entry else ""
        warn = "警告：" if self.level == WARNING else ""
        return f"{self.where}{who}：{warn}{self.message}"


class Validator:
    def __init__(self, documents: list[SourceDocument], categories: list[str]):
        self.documents = {d.id: d for d in documents}
        self._squashed = {d.id: squash(d.text) for d in documents}
        self.categories = set(categories)
        self.facts = FactChecker(documents)

    def check_entry(self, raw: object, where: str, seen_ids: set[str] | None = None,
                    warnings: bool = False) -> list[Problem]:
        """Errors of one entry; with `warnings`, also what the fact rules could not decide."""
        if not isinstance(raw, dict):
            return [Problem(where, "", "条目应为键值对（mapping）")]
        line = raw.get(LINE_KEY)
        if line and ":" not in where:
            where = f"{where}:{line}"
        entry_id = str(raw.get("id") or "")
        problems: list[Problem] = []

        def bad(msg: str, at: str | None = None) -> None:
            problems.append(Problem(where, entry_id, msg, field=at))

        for key in REQUIRED:
            if key not in raw:
                bad(f"缺少字段 `{key}`")
        unknown = set(raw) - set(REQUIRED) - {"active", LINE_KEY}
        if unknown:
            bad(f"未知字段：{', '.join(sorted(unknown))}", sorted(unknown)[0])
        if problems:
            return problems

        if not ID_RE.match(entry_id):
            bad("id 只能用小写字母、数字、点和横线（2–81 个字符）", "id")
        if seen_ids is not None:
            if entry_id in seen_ids:
                bad("id 重复", "id")
            seen_ids.add(entry_id)
        for key in ("question", "answer", "category"):
            if not isinstance(raw[key], str) or not raw[key].strip():
                bad(f"`{key}` 应为非空文本", key)
        for key in ("alternates", "keywords"):
            if not isinstance(raw[key], list) or not all(isinstance(x, str) and x.strip() for x in raw[key]):
                bad(f"`{key}` 应为非空文本的列表", key)
        if isinstance(raw["alternates"], list) and len(raw["alternates"]) < MIN_ALTERNATES:
            bad(f"至少需要 {MIN_ALTERNATES} 个其他问法（现有 {len(raw['alternates'])} 个）", "alternates")
        district = None
        try:
            district = require_district(raw["district"])
        except ValueError as exc:
            bad(str(exc), "district")
        if isinstance(raw["category"], str) and raw["category"] not in self.categories:
            bad(f"未知分类：{raw['category']}", "category")
        if "active" in raw and not isinstance(raw["active"], bool):
            bad("`active` 应为 true 或 false", "active")
        sources = raw["sources"]
        if not isinstance(sources, list) or not sources:
            bad("至少需要一条来源（document + quote）", "sources")
            return problems
        for i, src in enumerate(sources, 1):
            at = f"sources.{i - 1}"
            if not isinstance(src, dict) or not src.get("document") or not src.get("quote"):
                bad(f"第 {i} 条来源需要 document 和 quote", at)
                continue
            doc_id = str(src["document"])
            doc = self.documents.get(doc_id)
            if doc is None:
                bad(f"来源文档不存在：{doc_id}", f"{at}.document")
                continue
            quote = str(src["quote"])
            if squash(quote) not in self._squashed[doc_id]:
                bad(f"引文不在文档 {doc_id} 中：「{quote[:40]}」", f"{at}.quote")
            if district and doc.district and doc.district != district:
                bad(f"条目属于{district}，但引用了{doc.district}的文档 {doc_id}", f"{at}.document")
        if not isinstance(raw["answer"], str) or not isinstance(raw["alternates"], list):
            return problems
        for finding in self.facts.check(raw):
            if finding.level == ERROR or warnings:
                problems.append(Problem(where, entry_id, finding.message, finding.level, finding.field))
        return problems

    def check_all(self, faq_raw: list[tuple[str, dict]], warnings: bool = False) -> list[Problem]:
        seen: set[str] = set()
        problems: list[Problem] = []
        for name, raw in faq_raw:
            problems.extend(self.check_entry(raw, name, seen, warnings))
        return problems
