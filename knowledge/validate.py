"""Checks that every FAQ entry is well formed and traceable to its source.

The numbers rule is the one that protects workers' money: an amount in an
answer that is not in the quoted sentence cannot be shipped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .districts import require_district
from .kbfiles import LINE_KEY
from .model import SourceDocument

ID_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,80}$")
NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
HOTLINE = "12351"
MIN_ALTERNATES = 4
REQUIRED = ("id", "district", "category", "question", "alternates", "keywords", "answer", "sources")


@dataclass
class Problem:
    where: str     # "linping.yaml:12" or "第 3 行"
    entry: str     # entry id, if known
    message: str
    field: str | None = None   # the field at fault ("answer", "sources.0.quote"); None: the entry as a whole

    def __str__(self) -> str:
        who = f" [{self.entry}]" if self.entry else ""
        return f"{self.where}{who}：{self.message}"


def squash(text: str) -> str:
    """Whitespace removed: OCR line breaks and stray spaces do not count."""
    return re.sub(r"\s+", "", text or "")


def numbers_in(text: str) -> set[str]:
    return {_canon_number(n) for n in NUMBER_RE.findall(squash(text).replace(",", "").replace("，", ""))}


def _canon_number(n: str) -> str:
    if "." in n:
        n = n.rstrip("0").rstrip(".")
    return n.lstrip("0") or "0"


def _year_numbers(years: str) -> set[str]:
    found = set(NUMBER_RE.findall(years))
    nums = sorted(int(y) for y in found if len(y) == 4)
    if len(nums) == 2:   # "2021–2026" covers every year in between
        found |= {str(y) for y in range(nums[0], nums[1] + 1)}
    return found


class Validator:
    def __init__(self, documents: list[SourceDocument], categories: list[str]):
        self.documents = {d.id: d for d in documents}
        self._squashed = {d.id: squash(d.text) for d in documents}
        self.categories = set(categories)

    def check_entry(self, raw: object, where: str, seen_ids: set[str] | None = None) -> list[Problem]:
        if not isinstance(raw, dict):
            return [Problem(where, "", "条目应为键值对（mapping）")]
        line = raw.get(LINE_KEY)
        if line and ":" not in where:
            where = f"{where}:{line}"
        entry_id = str(raw.get("id") or "")
        problems: list[Problem] = []

        def bad(msg: str, at: str | None = None) -> None:
            problems.append(Problem(where, entry_id, msg, at))

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
        allowed_numbers = {HOTLINE}
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
            allowed_numbers |= numbers_in(quote) | _year_numbers(doc.years)
        if isinstance(raw["answer"], str):
            invented = sorted(numbers_in(raw["answer"]) - allowed_numbers, key=len)
            if invented:
                bad(f"回答中的数字不在引文中：{', '.join(invented)}", "answer")
        return problems

    def check_all(self, faq_raw: list[tuple[str, dict]]) -> list[Problem]:
        seen: set[str] = set()
        problems: list[Problem] = []
        for name, raw in faq_raw:
            problems.extend(self.check_entry(raw, name, seen))
        return problems
