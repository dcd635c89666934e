"""Text normalisation for unspaced Chinese questions.

Both the question and every FAQ phrasing go through the same pipeline, so that
"醫療互助怎麼參加？" and "职工医疗互助怎么参加" meet on the same string, and a
homophone typo ("疗修养") meets its word on the same phonetic code.
"""
from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache

# Only single characters are ever converted here, and their readings are the same without pypinyin's
# phrase dictionary, whose loading was a tenth of a one-shot `ask` (checked over every character the
# dictionary knows). Must be set before pypinyin is imported.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")

import opencc  # noqa: E402
from pypinyin import Style, lazy_pinyin  # noqa: E402

_T2S = opencc.OpenCC("t2s")

# Words that carry no meaning for matching. Longest first so "请问一下" goes whole.
FILLERS: tuple[str, ...] = tuple(sorted({
    "请问一下", "请问", "我想问一下", "我想问", "想问一下", "想问", "问一下", "我想知道", "想知道",
    "想了解", "了解一下", "咨询一下", "帮我查一下", "帮我查", "告诉我", "麻烦", "谢谢", "您好", "你好",
    "一下", "怎么样", "怎么办", "怎么", "怎样", "如何", "是什么", "是啥", "什么", "啥", "有没有",
    "有无", "有吗", "是不是", "能不能", "可不可以", "可以", "能否", "是否", "哪些", "哪里", "哪儿",
    "在哪", "吗", "呢", "啊", "呀", "吧", "嘛", "哦", "哈", "的", "了", "么", "我们", "我", "你们",
    "你", "咱们", "一些", "相关", "具体", "请", "一共", "总共", "共计", "到底", "究竟", "大概", "大约",
    "目前", "现在", "请教", "杭州市", "绍兴市", "杭州", "绍兴", "浙江省", "浙江",
}, key=len, reverse=True))
_FILLER_RE = re.compile("|".join(map(re.escape, FILLERS)))

# Keep CJK ideographs, Latin letters and digits (and the decimal point inside numbers).
_DROP_RE = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff.]+")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_STRAY_DOT_RE = re.compile(r"(?<!\d)\.|\.(?!\d)")


def base_form(text: str) -> str:
    """NFKC (full-width to half-width), lower case, traditional to simplified, symbols dropped.
    Lone surrogates (possible in JSON) are dropped first: the converter cannot encode them."""
    text = unicodedata.normalize("NFKC", _SURROGATE_RE.sub("", text or "")).lower()
    text = _T2S.convert(text)
    text = _DROP_RE.sub("", text)
    return _STRAY_DOT_RE.sub("", text)


class SynonymMap:
    """Rewrites every variant of a term to its canonical form, longest variant first."""

    def __init__(self, groups: list[list[str]] | None = None):
        self.groups = [[base_form(w) for w in g if base_form(w)] for g in (groups or [])]
        self._map: dict[str, str] = {}
        for group in self.groups:
            if not group:
                continue
            canonical = group[0]
            for word in group:   # the canonical word maps to itself so "疗休养" is not re-read as "疗"+"休养"
                self._map.setdefault(word, canonical)
        variants = sorted(self._map, key=len, reverse=True)
        self._re = re.compile("|".join(map(re.escape, variants))) if variants else None
        # The same rewriting on phonetic codes catches homophone typos of a variant ("工会意站").
        self._code_map: dict[str, str] = {}
        for word, canonical in self._map.items():
            if len(word) >= 2:
                self._code_map.setdefault(phonetic_code(word), phonetic_code(canonical))
        codes = sorted(self._code_map, key=len, reverse=True)
        self._code_re = re.compile("|".join(map(re.escape, codes))) if codes else None

    def apply(self, text: str) -> str:
        if not self._re:
            return text
        return self._re.sub(lambda m: self._map[m.group(0)], text)

    def apply_code(self, code: str) -> str:
        if not self._code_re:
            return code
        return self._code_re.sub(lambda m: self._code_map[m.group(0)], code)


def strip_fillers(text: str) -> str:
    return _FILLER_RE.sub("", text)


# ---------------------------------------------------------------- phonetic code
# Confusions common among Zhejiang speakers and on pinyin keyboards.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FUZZY_FINALS = (("ing", "in"), ("eng", "en"))
_CODES: dict[str, str] = {}


def _fuzzy(syllable: str) -> str:
    for a, b in _FUZZY_INITIALS:
        if syllable.startswith(a):
            syllable = b + syllable[len(a):]
            break
    if syllable.startswith("n"):
        syllable = "l" + syllable[1:]
    for a, b in _FUZZY_FINALS:
        if syllable.endswith(a):
            syllable = syllable[: -len(a)] + b
            break
    return syllable


def _code_of_syllable(syllable: str) -> str:
    fuzzy = _fuzzy(syllable)
    code = _CODES.get(fuzzy)
    if code is None:
        code = _CODES[fuzzy] = chr(0xE000 + len(_CODES))
    return code


@lru_cache(maxsize=65536)
def _code_of_char(ch: str) -> str:
    if "\u3400" <= ch <= "\u9fff":
        return _code_of_syllable(lazy_pinyin(ch, style=Style.NORMAL)[0])
    return ch


def phonetic_code(text: str) -> str:
    """One private-use character per syllable, so homophones compare equal."""
    return "".join(_code_of_char(ch) for ch in text)


# ---------------------------------------------------------------- pinyin input
@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    from pypinyin.pinyin_dict import pinyin_dict

    found: set[str] = set()
    for reading in {r for readings in pinyin_dict.values() for r in readings.split(",")}:   # ~1,500 distinct
        plain = unicodedata.normalize("NFKD", reading)
        plain = "".join(c for c in plain if not unicodedata.combining(c)).replace("ü", "v")
        if plain.isascii() and plain.isalpha():
            found.add(plain)
    return frozenset(found)


def split_pinyin(letters: str) -> list[str] | None:
    """Segments "yiliaohuzhu" into syllables (longest first, with backtracking); None if not pinyin."""
    valid = _syllables()
    memo: dict[int, list[str] | None] = {}

    def walk(i: int) -> list[str] | None:
        if i == len(letters):
            return []
        if i in memo:
            return memo[i]
        memo[i] = None
        for j in range(min(len(letters), i + 6), i, -1):
            if letters[i:j] in valid:
                rest = walk(j)
                if rest is not None:
                    memo[i] = [letters[i:j], *rest]
                    break
        return memo[i]

    return walk(0)


_LATIN_RUN = re.compile(r"[a-z]+")


def pinyin_runs_to_code(text: str) -> str | None:
    """Phonetic code for text typed (partly) in pinyin; None when no Latin run is pinyin."""
    changed = False
    out: list[str] = []
    pos = 0
    for m in _LATIN_RUN.finditer(text):
        out.append(phonetic_code(text[pos:m.start()]))
        syllables = split_pinyin(m.group(0)) if len(m.group(0)) >= 2 else None
        if syllables and len(syllables) >= 2:
            out.append("".join(_code_of_syllable(s) for s in syllables))
            changed = True
        else:
            out.append(m.group(0))
        pos = m.end()
    out.append(phonetic_code(text[pos:]))
    return "".join(out) if changed else None
