"""Numbers and years: each bound to a quote with the same unit, scope and date.

"每人补助990元" fails where the source says "补助职工990名"; "493.42元" fails where it says
"493.42万元"; "五年提供免费体检名额20000个" fails where the source limits the clause to
"优秀职工"; "2023年建成" fails where nothing dates the fact in 2023.
"""
from __future__ import annotations

import re

from . import ERROR, WARNING, Entry, Finding
from .claims import Clause, clause_around
from .quantities import Quantity, quantities_in, years_in
from .sources import Located

# Words that narrow or widen what a number counts; next to a number in an answer they must be
# next to it in the quote too ("每人最高可理赔493.42万元" is not "理赔金额493.42万元").
SCOPE_WORDS = ("每人", "每名", "每位", "人均", "每年", "每月", "每次", "最高", "最多", "全部", "全额", "至少",
               "单次", "累计", "总计", "共计")
# Who a figure is for: when the quoted clause names them, the answer's clause must keep them.
GROUPS = ("优秀职工", "一线职工", "困难职工", "快递小哥", "新就业形态", "新业态", "农民工", "女职工", "劳模",
          "中小微企业", "小额缴费", "产改试点", "留虞职工", "留建过年", "浙江大学教职工", "杭州一线职工")
# A year in these phrases dates the report, not a fact: the document's own years may be used.
_YEARS = r"(?:19|20)\d\d(?:\s*[–—\-~]\s*(?:19|20)\d\d)?"
_REPORT_DATE = re.compile(rf"({_YEARS})年(?:的|定下的|提出的|确定的)?(?:工作)?"
                          rf"(?:报道|思路|文章|规划|五年目标|量化目标|目标)|({_YEARS})年(?:提出|定下|确定|制定|定的)")


def _quote_quantities(quotes: list[Located]) -> list[tuple[Quantity, Located]]:
    return [(q, loc) for loc in quotes for q in quantities_in(loc.text)]


def _describe(clause: str) -> str:
    return f"「{clause.strip('，。；：')}」"


def check(entry: Entry) -> list[Finding]:
    out: list[Finding] = []
    everywhere = _quote_quantities(entry.quotes)
    for clause in entry.clauses:
        support = _quote_quantities(entry.support(clause))
        for q in quantities_in(clause.text):
            if clause.silent and q.chinese and not q.key.endswith(("元", "%", "成")):
                continue        # "没有写下一期时间", "没有列出这十项": wording, not a figure
            out.extend(_check_quantity(entry, clause, q, support, everywhere))
        out.extend(_check_years(entry, clause))
    return out


def _check_quantity(entry: Entry, claim: Clause, q: Quantity, support, everywhere) -> list[Finding]:
    clause = claim.text
    said = _describe(clause)
    same = [(qq, loc) for qq, loc in support if qq.key == q.key]
    if not same:
        elsewhere = [loc for qq, loc in everywhere if qq.key == q.key]
        if elsewhere and entry.multi_district:
            owner = elsewhere[0].document.district
            return [Finding(ERROR, f"{said}：{q.text}出自{owner}的文档，不能用来说这一分句的区县")]
        units = sorted({qq.text for qq, _ in support if qq.value == q.value})
        if units:
            found = "”“".join(units)
            return [Finding(ERROR, f"{said}：{q.text}与引文不符，引文里是“{found}”（数字要连同单位和所计对象）")]
        return [Finding(ERROR, f"{said}：数字{q.text}不在引文中")]
    out: list[Finding] = []
    best = next(((qq, loc) for qq, loc in same if qq.approx == q.approx), None)
    if best is None:
        qq, _ = same[0]
        out.append(Finding(ERROR, f"{said}：引文写的是“{qq.approx}{qq.text}”，回答写成了“{q.approx}{q.text}”"))
        best = same[0]
    qq, loc = best
    if claim.silent:
        return out
    quote_sentence = loc.sentence or loc.text
    lead_in = clause_around(clause, q.start, q.end)
    lead_in = lead_in[: lead_in.find(q.text)]
    for word in SCOPE_WORDS:
        if word in lead_in and word not in quote_sentence:
            out.append(Finding(ERROR, f"{said}：“{word}…{q.text}”改变了数字的范围，引文是“{quote_sentence}”"))
    groups = [] if q.counts_time else limiting_groups(quote_sentence, qq.text)
    if groups and not any(g in _speaks_for(entry, claim) for g in groups):
        out.append(Finding(ERROR, f"{said}：范围扩大了，引文中的{qq.text}限于“{'、'.join(groups)}”："
                                  f"“{_clause_holding(quote_sentence, qq.text)}”"))
    return out


def _speaks_for(entry: Entry, claim: Clause) -> str:
    """The text that says who a figure is for: the clause's sentence, in an answer for all
    districts only the clauses of that sentence about the same district."""
    if not entry.multi_district:
        return claim.sentence
    return "".join(c.text for c in entry.clauses if c.sentence == claim.sentence and c.district == claim.district)


def limiting_groups(sentence: str, number: str) -> list[str]:
    """Who a quoted figure is for: the groups named in its own list item, and those of the clause's
    lead-in when its item continues the first one ("五年提供优秀职工免费疗休养名额8000个、
    免费体检名额20000个": "优秀职工" limits both figures)."""
    clause = _clause_holding(sentence, number)
    items = clause.split("、")
    own = next((it for it in items if number in it), clause)
    if "等" in own[: own.find(number)]:
        own = clause             # "走访慰问困难职工家庭、…、春节留虞职工等1300余人次": the whole list
    found = [g for g in GROUPS if g in own]
    first = items[0]
    for g in GROUPS:
        at = first.find(g)
        if at < 0 or g in found or own is first:
            continue
        rest = first[at + len(g):]
        if rest[:2] and own.startswith(rest[:2]):
            found.append(g)
    return found


def _clause_holding(text: str, number: str) -> str:
    at = text.find(number)
    return clause_around(text, at, at + len(number)) if at >= 0 else text


def _check_years(entry: Entry, clause) -> list[Finding]:
    years = years_in(clause.text)
    if not years:
        return []
    support = entry.support(clause)
    dated_by = set().union(*(q.years for q in support)) if support else set()
    report = set()
    for m in _REPORT_DATE.finditer(clause.text):
        report |= years_in(next(g for g in m.groups() if g) + "年")
    document_years = set().union(*(years_in(q.document.years + "年") for q in support)) if support else set()
    out = []
    for year in sorted(years):
        if year in dated_by or (year in report and year in document_years):
            continue
        if any(year in q.years for q in entry.quotes):
            owner = next(q.document.district for q in entry.quotes if year in q.years)
            out.append(Finding(ERROR, f"{_describe(clause.text)}：{year}年是{owner}文档的年份，不是这一分句的"))
        else:
            known = "、".join(sorted(dated_by)) or "无"
            out.append(Finding(ERROR, f"{_describe(clause.text)}：{year}年不在引文中，也不是引文所在段落的年份"
                                      f"（可用：{known}）"))
    if not support and years:
        out.append(Finding(WARNING, f"{_describe(clause.text)}：没有引文可以确定这个年份"))
    return out
