"""Reading a follow-up against the conversation: "那富阳呢", "本科呢", "怎么申请", "去年呢".

People at the union desk ask the next question in half a sentence. A follow-up is read
against the last turn in two ways, and the engine keeps whichever it is surest of:

- the last question as it was understood, plus what is new ("临平读大专的职工补助多少人" +
  "本科"), in the newly named district if there is one ("那富阳呢");
- the last answer's theme, plus what is new ("学历提升，本科"): a sibling item.

A message that stands on its own (names its own topic and is answered confidently) is
never bent by the previous turn; only the district carries over when it names none.
"""
from __future__ import annotations

import re

from .conversation import Turn
from .districts import aliases

_CONTINUES = re.compile(r"^(那么|那如果|那要是|那个|那|还有|另外|再问一下|再问|然后|如果是|要是)")
_ENDS_WITH_NE = re.compile(r"(呢|的呢|呐)[\s?？。!！~～]*$")
_DISTRICT_WORDS = sorted(aliases(), key=len, reverse=True)
_LEFTOVER = re.compile(r"^[\s，,。？?！!]*(呢|的呢|有吗|有没有|怎么样|咋样|情况)?[\s，,。？?！!]*$")


def continues(text: str) -> bool:
    """Marked as a continuation: "那…", "还有…", "…呢"."""
    text = text.strip()
    return bool(_CONTINUES.match(text) or _ENDS_WITH_NE.search(text))


def without_districts(text: str) -> str:
    """The text with every district name (and "那边", "的" after it) taken out."""
    return re.sub("|".join(map(re.escape, _DISTRICT_WORDS)), "", text, flags=re.IGNORECASE)


def new_part(text: str) -> str:
    """What a follow-up adds: the message without its continuation words and district names."""
    text = _CONTINUES.sub("", text.strip())
    text = without_districts(text)
    text = _ENDS_WITH_NE.sub("", text)
    text = re.sub(r"^(那边|这边|那里|的)+", "", text.strip(" ，,。？?！!"))
    return "" if _LEFTOVER.match(text) else text.strip(" ，,。？?！!")


def readings(text: str, last: Turn) -> list[str]:
    """The follow-up written out against the last turn, most literal first (no district names: the
    district is passed on its own)."""
    new = new_part(text)
    topic = without_districts(last.topic or last.question).strip(" ，,。？?！!")
    out = [f"{topic}，{new}" if new else topic]
    if new and last.category:
        out.append(f"{last.category}，{new}")
    return [r for r in dict.fromkeys(out) if r]
