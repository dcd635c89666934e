"""Words that promise money or access, programme names, phone numbers, addresses and hours.

A worker acts on "免费", "全额报销" or an address; such words are facts like digits, whichever
way they are written ("电话八八八八一二三四", "湖墅南路一百号", "上午九点"). Each must appear in
a quote that may carry its clause.
"""
from __future__ import annotations

import re

from . import ERROR, Entry, Finding
from .claims import Clause

MONEY_WORDS = ("免费", "全额", "半价", "报销", "补贴", "补助", "减免", "免减", "返还", "退还", "奖金", "奖励",
               "不收费", "不要钱", "不花钱", "全免", "减半", "包吃住", "报销比例")
_ZH = "零〇一二三四五六七八九十百"
# Phone-like: long digit runs in either script, or a phone word followed by digits.
_PHONE = re.compile(rf"\d{{3,4}}[-—－]\d{{6,8}}|\d{{7,}}|[{_ZH[:10]}]{{5,}}|(?:电话|手机|热线|号码|联系方式)"
                    rf"(?:是|为|：|:)?[\d{_ZH}]{{3,}}")
# Address-like: a street and a number, a floor or room, or "位于…".
_ADDRESS = re.compile(rf"[\u4e00-\u9fff]{{1,10}}(?:路|街|大道|巷|弄|大街)[\d{_ZH}]+号|[\d{_ZH}]+(?:号楼|楼|层|室|幢|栋)"
                      rf"(?![\u4e00-\u9fff]{{0,1}}宇)|(?:位于|坐落于|地址是|地址为|地址：)[\u4e00-\u9fff\d]{{2,}}")
# Opening hours.
_HOURS = re.compile(rf"\d{{1,2}}[:：]\d{{2}}|(?:上午|下午|早上|晚上|中午|早|晚)[\d{_ZH}]{{1,3}}(?:点|时)|"
                    rf"[\d{_ZH}]{{1,3}}点(?:半|[\d{_ZH}]+分)?(?:至|到|—|-|~)|周[一二三四五六日天]至周[一二三四五六日天]|"
                    rf"(?:每天|全天|工作日)[\d{_ZH}]|24小时(?:开放|营业)")
_NAME = re.compile(r"“([^“”]{2,30})”")


def check(entry: Entry) -> list[Finding]:
    out: list[Finding] = []
    for clause in entry.clauses:
        support = "".join(q.text for q in entry.support(clause))
        everywhere = "".join(q.text for q in entry.quotes)
        said = f"「{clause.text.strip('，。；：')}」"
        for label, pattern in (("电话号码", _PHONE), ("地址", _ADDRESS), ("开放时间", _HOURS)):
            for m in pattern.finditer(clause.text):
                if m.group(0) != "12351" and _squash(m.group(0)) not in support:
                    out.append(Finding(ERROR, f"{said}：像是{label}的“{m.group(0)}”不在引文中"))
        if clause.silent:
            continue
        out.extend(_money_words(entry, clause, said, support, everywhere))
        if entry.about_bot:
            continue            # its “…” are examples of what to type ("临平 体检")
        for m in _NAME.finditer(clause.text.replace("‘", "“").replace("’", "”")):
            name = m.group(1)
            if _squash(name) not in support:
                where = _owner(entry, name)
                tail = f"，它出自{where}的文档" if where and entry.multi_district else ""
                out.append(Finding(ERROR, f"{said}：名称“{name}”不在这一分句可用的引文中{tail}"))
    return out


def _money_words(entry: Entry, clause: Clause, said: str, support: str, everywhere: str) -> list[Finding]:
    out = []
    for word in MONEY_WORDS:
        if word in clause.text and word not in support:
            if any(word in w and w in clause.text and w in support for w in MONEY_WORDS if w != word):
                continue            # "报销比例" in the quote carries "报销"
            tail = f"，它出自{_owner(entry, word)}的文档" if entry.multi_district and word in everywhere else ""
            out.append(Finding(ERROR, f"{said}：“{word}”不在这一分句可用的引文中{tail}"))
    return out


def _owner(entry: Entry, text: str) -> str | None:
    return next((q.document.district for q in entry.quotes if _squash(text) in q.text), None)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)
