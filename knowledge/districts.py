"""The districts the bot serves, and how people name them.

Users write "临平", "临平区", "linping" or even a homophone typo ("林平");
everything downstream works with the full official name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class District:
    name: str            # full official name, as answers and the database write it
    short: str           # what people usually type
    city: str
    pinyin: str          # toneless syllables, space separated
    union: str           # the union federation to refer people to


DISTRICTS: tuple[District, ...] = (
    District("拱墅区", "拱墅", "杭州市", "gong shu", "拱墅区总工会"),
    District("富阳区", "富阳", "杭州市", "fu yang", "富阳区总工会"),
    District("临平区", "临平", "杭州市", "lin ping", "临平区总工会"),
    District("上虞区", "上虞", "绍兴市", "shang yu", "上虞区总工会"),
    District("建德市", "建德", "杭州市", "jian de", "建德市总工会"),
)

BY_NAME = {d.name: d for d in DISTRICTS}
_ALIASES: dict[str, District] = {}
for _d in DISTRICTS:
    for _alias in (_d.name, _d.short, _d.city + _d.name, _d.city[:-1] + _d.short,
                   _d.pinyin.replace(" ", ""), _d.pinyin):
        _ALIASES[_alias.lower()] = _d


def canonical_district(value: str | None) -> str | None:
    """Full name for any accepted spelling ("临平", "linping", "临平区"); None if unknown/empty."""
    if not isinstance(value, str):
        return None
    key = value.strip().lower()
    if not key:
        return None
    d = _ALIASES.get(key)
    return d.name if d else None


def require_district(value: str | None) -> str | None:
    """Like canonical_district, but an unknown non-empty name is an error."""
    if value is None or not str(value).strip():
        return None
    name = canonical_district(str(value))
    if name is None:
        known = "、".join(d.name for d in DISTRICTS)
        raise ValueError(f"未知的区县：{value}（可选：{known}）")
    return name


def union_of(district: str | None) -> str:
    d = BY_NAME.get(district or "")
    return d.union if d else "所在区县的总工会"


def aliases() -> dict[str, str]:
    """Every textual alias (lower-case) mapped to the full name, longest first."""
    return {k: v.name for k, v in sorted(_ALIASES.items(), key=lambda kv: -len(kv[0]))}


PLACES_FILE = Path(__file__).resolve().parent / "data" / "places.yaml"


@lru_cache(maxsize=1)
def places() -> dict[str, str]:
    """Places inside a served district (knowledge/data/places.yaml) mapped to its full name, longest first."""
    from .kbfiles import load_yaml, strip_lines

    data = strip_lines(load_yaml(PLACES_FILE.read_text("utf-8"), PLACES_FILE.name))["places"]
    found = {str(p): canonical_district(str(d)) for d, names in data.items() for p in names}
    return dict(sorted(found.items(), key=lambda kv: -len(kv[0])))


def place_district(text: str) -> str | None:
    """The district of a place inside it that the text names ("超山" -> 临平区), when the text names
    places of one district only and no place the bot does not serve ("宁波杭州湾新区" is not 上虞)."""
    squashed = re.sub(r"\s+", "", text)
    named = {d for p, d in places().items() if p in squashed}
    if len(named) != 1 or any(p in squashed for p in (*_NEIGHBOURS, *_OTHER_CITIES)):
        return None
    return named.pop()


# Places people may ask about that the bot has no documents for. A question about them must not be
# answered with a served district's programme.
# Districts and counties near the served ones, named so that a common word inside them ("萧山区" holds
# 山区, "越城区" 城区) cannot hide them from the generic pattern below.
_NEIGHBOURS = ("上城区", "西湖区", "滨江区", "萧山区", "余杭区", "钱塘区", "临安区", "桐庐县", "淳安县",
               "下城区", "江干区", "越城区", "柯桥区", "诸暨市", "嵊州市", "新昌县", "海宁市", "桐乡市", "德清县",
               "安吉县", "长兴县", "义乌市", "东阳市", "余姚市", "慈溪市")
_OTHER_CITIES = ("北京", "上海", "天津", "重庆", "广州", "深圳", "南京", "苏州", "宁波", "温州", "嘉兴", "湖州",
                 "金华", "衢州", "舟山", "台州", "丽水", "义乌", "武汉", "成都", "西安", "长沙", "郑州", "合肥",
                 "厦门", "福州", "青岛", "济南", "沈阳", "大连", "哈尔滨", "昆明", "南昌", "无锡", "常州", "香港",
                 "澳门", "台湾", "外省", "国外")
_NOT_PLACES = ("社区", "园区", "城区", "景区", "小区", "市区", "辖区", "全区", "本区", "该区", "各区", "新区",
               "开发区", "经开区", "地区", "县区", "区县", "城市", "全市", "本市", "各市", "区级", "市级", "县级",
               "街区", "商圈", "示范区", "先行区", "高地区", "工区", "片区", "校区", "专区", "灾区", "山区",
               "郊区", "老城区", "主城区", "核心区", "功能区", "保税区", "试验区", "都市")
_FUNCTION_CHARS = set("选哪些的们这那个几所在全本该各每我你他她它换改切到去回住想看是有没只了么吗呢"
                      "说里要给让帮和跟与对从把被为就都也还再又才很多少上下中听问讲叫办建搞做开")


_CLAUSE = re.compile(r"[，,。！!？?；;、：:\s…~～]+")
_BEFORE_PLACE = set("在去到从住回往是")


def foreign_place(text: str, asking: str | None = None) -> str | None:
    """A city or district named in the text that the bot does not serve ("滨江区", "北京"), if any.

    Known places count anywhere in the text. An unknown "xx区/县/市" counts only in `asking` (the
    clauses that ask; default: the whole text), at the start of a clause or after 在/去/到…: in
    "环境也不错，市总工会…" or "厂里说区工会…" there is no place."""
    squashed = re.sub(r"\s+", "", text)
    for place in (*_NEIGHBOURS, *_OTHER_CITIES):
        if place in squashed or (place[-1] in "区县市" and place[:-1] + "区" in squashed):
            return place
    for clause in _CLAUSE.split(text if asking is None else asking):
        found = _unknown_place(clause)
        if found:
            return found
    return None


def _unknown_place(clause: str) -> str | None:
    for end in (i for i, ch in enumerate(clause) if ch in "区县市"):
        # The name before the suffix: two characters, or three ("嘉善县" in "在嘉善县"), never a function word.
        for size in (2, 3):
            start = end - size
            if start < 0:
                break
            if start > 0 and clause[start - 1] not in _BEFORE_PLACE:
                continue
            name = clause[start:end]
            place = name + clause[end]
            if any(ch in _FUNCTION_CHARS or not "\u4e00" <= ch <= "\u9fff" for ch in name):
                continue
            if canonical_district(place) or canonical_district(name) or name in ("杭州", "绍兴"):
                break
            if any(place.endswith(w) or w.endswith(place) for w in _NOT_PLACES):
                break
            if any(w in clause[max(0, start - 2): end + 3] for w in _NOT_PLACES):
                break
            return place
    return None


def homophone_district(text: str, code_of) -> str | None:
    """A served district typed with a homophone typo and its suffix ("林平区", "富杨区", "上于区").

    Only with the suffix: without it, two common syllables ("建的") would be read as a place.
    """
    code = code_of(text)
    for name, target in _homophone_targets(code_of):
        if target in code:
            return name
    return None


@lru_cache(maxsize=4)
def _homophone_targets(code_of) -> tuple[tuple[str, str], ...]:
    """Each district's short name and suffix, coded (once per coding function: every text is checked)."""
    return tuple((d.name, code_of(d.short) + code_of(d.name[-1])) for d in DISTRICTS)
