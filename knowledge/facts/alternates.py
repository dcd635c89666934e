"""A district entry's alternate phrasings must be about that district.

The matcher compares a question with every alternate. "工会福利都有啥" under 建德市 pulls a
question that names no district to 建德's 2021 programme; it belongs to the overview for all
districts. An alternate of a district entry names its district, or a term only that
district's document has ("墅工学堂", "寿昌宫", "红湾大课堂").
"""
from __future__ import annotations

import re

from ..districts import DISTRICTS
from . import WARNING, Entry, Finding
from .sources import DocumentIndex

MIN_TERM = 3
# A run holding one of these is a way of asking ("工会有", "什么是"), not a name.
_ASKING = set("什么怎么哪吗呢有是能可要的了吧啥几多少谁给我你他们这那个去来在想")
_NAMES = {d.name: (d.name, d.short) for d in DISTRICTS}


def check(entry: Entry, indexes: dict[str, DocumentIndex]) -> list[Finding]:
    if not entry.district:
        return []
    own = "".join("".join(ix.flat) for ix in indexes.values() if ix.document.district == entry.district)
    others = ["".join(ix.flat) for ix in indexes.values()
              if ix.document.district and ix.document.district != entry.district]
    cited = "".join(q.text for q in entry.quotes)
    out = []
    for alt in entry.alternates:
        if any(n in alt for n in _NAMES.get(entry.district, ())) or distinctive_term(alt, own, others, cited):
            continue
        out.append(Finding(WARNING, f"其他问法「{alt}」既没有写{entry.district}，也没有只属于该区的名称；"
                                    f"没写区县的问题会被它拉到{entry.district}（写上区名，或移到通用条目）",
                           "alternates"))
    return out


def distinctive_term(text: str, own: str, others: list[str], cited: str) -> str | None:
    """A name in the text: a run of ≥3 characters, no asking words, that the entry's quotes hold
    and that the district's document has and no other district's document does."""
    text = re.sub(r"[^\u4e00-\u9fff\w+]", "", text)
    for size in range(len(text), MIN_TERM - 1, -1):
        for i in range(len(text) - size + 1):
            term = text[i:i + size]
            if set(term) & _ASKING or term not in cited:
                continue
            if term in own and not any(term in o for o in others):
                return term
    return None
