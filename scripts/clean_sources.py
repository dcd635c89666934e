#!/usr/bin/env python3
"""Rebuilds the project's cleaned copies of the seed articles.

The seeds are OCR/news text with lines broken inside sentences and words (000 is set in
narrow newspaper columns: "守好红色根 | 脉") and numbers split by stray spaces
("13 . 5 6万"). Cleaning joins a line to the next until a sentence ends, keeps headings,
captions and list items as paragraphs of their own, marks photo captions "[图片说明]", and
marks with "[原文缺失]" each edge where the original lost text (a page or column break): text
is never joined across a gap. Which lines are headings or captions and where the gaps are is
an editor's reading of each article, written down below; everything else is rule. No
character of the original is changed, added or dropped except whitespace and the two marks
(tests/test_sources.py checks this).

    python scripts/clean_sources.py ../shared/seeds knowledge/data/sources
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge.source_text import CAPTION, GAP, ends_sentence, paragraphs  # noqa: E402


@dataclass(frozen=True)
class Reading:
    """An editor's reading of one article: its headings and photo captions (as printed, possibly
    over several lines) and the edges of its gaps."""
    headings: tuple[str, ...] = ()
    captions: tuple[str, ...] = ()
    text_lost_after: tuple[str, ...] = ()     # a line ending with this is cut off
    text_lost_before: tuple[str, ...] = ()    # a line starting with this begins mid-sentence


READINGS: dict[str, Reading] = {
    "000_35c1c4993e45d00d.txt": Reading(headings=(
        "忠诚履职强担当  笃行实干再前行",
        "在拱墅工运事业高质量发展新征程上持续奋进",
        "坚持政治导向  守好职工意识形态主阵地",
        "坚持中心导向  深入推进高素养劳动者队伍建设",
        "坚持问题导向  切实防范化解劳动领域风险隐患",
        "坚持服务导向  促进提高职工生活品质",
        "坚持强基导向  全面加强工会自身建设",
        "今年以来主要工作",
        "下一阶段工作思路",
        "“红”为主旋律",
        "凝聚职工团结奋进力量",
        "“产”上下功夫",
        "打造技能人才创新赋能平台",
        "“质”上求突破",
        "筑牢大运河幸福家园底座",
        "区总工会",                                               # printed vertically, one character a line
        "高水平打造青年人才向往之地圆梦之区",
        "为拱墅迈上高质量发展建设共同富裕示范区新台阶贡献青春力量",
        "聚焦青年发展", "实施“青春代言·共同成长”行动",
        "聚焦自身建设", "实施“青春锻造·守正创新”行动",
        "聚焦政治引领", "实施“青春领航·培根铸魂”行动",
        "聚焦服务大局", "实施“青春建功·勇当先锋”行动",
    ), captions=(
        "“匠心走大运 墅工启新程”拱墅区工会助力高质量发展五大工程启动仪式暨“迎五一”职工毅行活动",
        "全省“我在工会驿站当站长”实践活动启动仪式在拱墅举行",     # over two lines
        "“运河青春红帆计划”青年嘉年华暨五四主题团日活动 “知否夜学社”茶艺课",
        "2025年新时代“浙青年·学雷锋”主题活动暨青年志愿者“助共富当先锋”学习交流活动",
    )),
    "001_175e57b180e2aeee.txt": Reading(
        headings=("记者 张柳静 通讯员 蒋劲超",),
        captions=("外卖小哥在爱心驿站", "组织职工篮球赛", "劳模工匠进企业宣讲", "组织青年职工联谊会",
                  "富阳改革案例入选杭州市工会改革创新优秀成果"),
        # The "百位名师带高徒" sentence breaks off at "带有"; its end ("计划、考有标准…") is printed
        # a section earlier, after a page break.
        text_lost_after=("聘有仪式、带有",),
        text_lost_before=("计划、考有标准、奖有兑现",),
    ),
    "002_b22997240e314b2b.txt": Reading(),
    "003_265a14f3281b8d8b.txt": Reading(
        headings=("聚焦“青春之城”主战略 引领职工建功立业", "上虞区总工会奋力谱写新时代新征程工会事业发展新篇章",
                  "在“引领”上发力 当好政治坚定的先锋队", "在“建功”上发力 当好高质量发展的主力军",
                  "在“服务”上发力 当好职工信赖的“娘家人”"),
        # Column breaks of the print layout lost text at four places.
        text_lost_after=("以点带面形成“产改”", "以“数字工会”建设为契机，", "提供专项心理服务，",
                         "1名干部担任"),
        text_lost_before=("家、浙江工匠6名", "如百官街道面向“饿了么”骑手", "行动计划(2021~2023年)》。",
                          "工会工作高质量发展。加强党风廉政建设"),
    ),
    "004_a833a60ea0685b4b.txt": Reading(),
}


def _lines(raw: str) -> list[str]:
    return [ln.strip() for ln in raw.splitlines() if ln.strip()]


def _heading_at(lines: list[str], i: int, headings: tuple[str, ...]) -> int:
    """How many lines from i spell one of the headings or captions (0 if none)."""
    joined = ""
    for k in range(i, min(i + 6, len(lines))):
        joined += lines[k]
        if joined in headings:
            return k - i + 1
        if not any(h.startswith(joined) for h in headings):
            return 0
    return 0


def clean(raw: str, reading: Reading) -> str:
    lines = _lines(raw)
    paragraphs: list[str] = []
    current = ""
    i = 0
    while i < len(lines):
        n = _heading_at(lines, i, reading.headings + reading.captions)
        line = "".join(lines[i:i + n]) if n else lines[i]
        if n and line in reading.captions:
            line = CAPTION + line
        standalone = bool(n) or line.startswith("#") or line.startswith("- ")
        lost_before = any(line.startswith(s) for s in reading.text_lost_before)
        if current and (standalone or lost_before or ends_sentence(current) or current.endswith(GAP)
                        or current.startswith("#") or current.startswith("- ")):
            paragraphs.append(current)
            current = ""
        if lost_before:
            line = GAP + line
        if standalone:
            paragraphs.append(line)
        else:
            current += line
            if any(current.endswith(s) for s in reading.text_lost_after):
                current += GAP
        i += n or 1
    if current:
        paragraphs.append(current)
    out = "\n\n".join(paragraphs) + "\n"
    # "13 . 5 6万" -> "13.56万": spaces inside a number are OCR noise.
    out = re.sub(r"(?<=\d) ?\. ?(?=\d)", ".", out)
    return re.sub(r"(?<=\d) (?=\d)", "", out)


def unexplained_breaks(text: str, reading: Reading) -> list[str]:
    """Paragraphs that end mid-sentence without being a heading, a list item or a marked gap."""
    return [p for p in paragraphs(text) if not (ends_sentence(p) or p.endswith(GAP)
                                                or p.startswith(("- ", "#", CAPTION)) or p in reading.headings)]


def main(src: str, dst: str) -> None:
    for path in sorted(Path(src).glob("*.txt")):
        reading = READINGS.get(path.name, Reading())
        (Path(dst) / path.name).write_text(clean(path.read_text(encoding="utf-8"), reading), encoding="utf-8")
        print(f"cleaned {path.name}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
