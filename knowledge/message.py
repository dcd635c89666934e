"""Reading a chat message the way a person does, before anything is matched.

Workers write "你好，我是送外卖的，干了三年了……听说驿站能修车？是哪位师傅啊". Half of
that is greeting and self-introduction; matched whole, it drowns the question. Here
a message is cleaned (markup, full-width Latin), split into clauses, and each
clause gets a role: greeting, thanks, intro (who I am, my situation), ask (the
clause that asks) or context (what the asker heard or needs). Retrieval then
reads the *focus*: the asking clauses and the context around them, with the
self-introduction and pleasantries left out. Districts are taken from anywhere.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

# ------------------------------------------------------------------ markup
_TAG = re.compile(r"<[^<>]{0,200}>")
_MD_LINK = re.compile(r"\[([^\]]{0,200})\]\((?:[^)]{0,500})\)")
_URL = re.compile(r"https?://\S+|www\.\S+")
_MD_MARKS = re.compile(r"(\*\*|__|~~|`{1,3}|^#{1,6}\s*|^>\s*|^\s*[-*+]\s+)", re.MULTILINE)
_MENTION = re.compile(r"@[A-Za-z0-9_]{3,32}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def strip_markup(text: str) -> str:
    """HTML tags and entities, Markdown emphasis, links (their text kept) and bare URLs removed;
    full-width Latin and digits folded to ASCII (NFKC)."""
    text = _SURROGATE.sub("", text or "")        # a lone surrogate cannot be encoded (logs, the model, the database)
    text = unicodedata.normalize("NFKC", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _MD_MARKS.sub("", text)
    return re.sub(r"[ \t\u3000]+", " ", text).strip()


# ------------------------------------------------------------------ clauses
# Sentence and clause ends, emoji and other pictographs, and runs of spaces between Chinese words
# ("你好 我是送外卖的 上个月…") all end a clause.
_CLAUSE_END = re.compile(
    r"[。！？!?；;…~～\n，,：:]+|\.{2,}|[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200d]+"
    r"|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")

GREETING_WORDS = ("你好", "您好", "你们好", "大家好", "在吗", "在不在", "在么", "有人吗", "有人在吗",
                  "嗨", "哈喽", "哈罗",
                  "hi", "hello", "hey", "早上好", "上午好", "中午好", "下午好", "晚上好", "早安", "晚安", "早", "喂")
_GREETING_CLAUSE = re.compile(
    r"^(?:(?:老师|师傅|老板|领导|同志|小姐姐|小哥哥|客服|工会|亲|机器人|各位|大家|美女|帅哥|阿姨|大姐|大哥|管理员)?"
    r"(?:你好|您好|你们好|好)(?:啊|呀|哇|哈|呢|吖)*|在吗|在不在|在么|有人吗|有人在吗|嗨|哈喽|哈罗|hi|hello|hey"
    r"|早上好|上午好|中午好|下午好|晚上好|早安|打扰了|打扰一下|冒昧问一下)+$")
THANKS_WORDS = ("谢谢", "感谢", "多谢", "谢了", "辛苦", "麻烦了", "好的", "收到", "明白了", "知道了", "ok", "嗯嗯",
                "拜拜", "再见", "没事了", "不客气")
_THANKS_CLAUSE = re.compile(
    r"^(?:(?:先|提前|非常|十分|太|真是|真的)?(?:谢谢|感谢|多谢|谢了|辛苦|麻烦)(?:您|你|你们|大家|啦|了|哈|呀|啊|喽|咯|老师|师傅)*"
    r"|好的|收到|明白了|知道了|ok|嗯+|哦+|好吧|行|拜拜|再见|没事了|不客气)+$")
# Said of oneself: who I am, where I work, for how long, my family and my troubles.
_INTRO = re.compile(
    r"^(?:我|俺|本人|我们|我家|我老婆|我老公|我爸|我妈|家里|孩子|老婆|老公)"
    r"|(?:我是|我在|我们是|我们在|本人是|我做|我干|我跑|我开|我刚|我今年|我已经|我平时|我之前|我以前|我家|我老婆|我老公|我们厂"
    r"|我们公司|我们单位|我们车间|我们园区)"
    r"|干了.{0,4}年|做了.{0,4}年|工作.{0,4}年|上班.{0,4}年|跑了.{0,4}年|刚毕业|刚来|刚上任|刚入职|刚接手")
# What marks a clause as the one that asks.
_ASK = re.compile(
    r"[?？]|吗|嘛|么$|呢$|什么|啥|怎么|怎样|咋|如何|多少|几[个家场次名人项批期天号月年条支项份所位种块]|哪|谁|有没有|有无|能不能|能否"
    r"|可不可以|可以.{0,8}吗|是不是|会不会|要不要|需不需要|有什么|是否|想问|请问|问问|问一下|打听|了解一下|咨询|求助|求问")

# A clause that reports what the asker heard or read names the topic the question is about.
_HEARSAY = re.compile(r"^(?:我|俺)?(?:听说|听人说|听人讲|据说"
                      r"|听(?:朋友|同事|工友|别人|老乡|家里人|他们|邻居|群里)(?:说|讲)"
                      r"|(?:朋友|同事|工友|别人|老乡|群里)(?:说|讲)|(?:看|看到)(?:新闻|报道|通知|公众号|文章))")

# Interrogative words used as indefinites ("孩子对劳动没啥概念", "什么都不懂"): no question there.
_NOT_ASKING = re.compile(r"没(?:啥|什么|多少|怎么|几个)|不怎么|(?:什么|啥)(?:都|也)|好几|十几|几十|几百|几千|几万")


@dataclass(frozen=True)
class Clause:
    text: str       # as written (markup removed)
    role: str       # greeting | thanks | intro | ask | context


@dataclass(frozen=True)
class ReadMessage:
    """A message taken apart: what retrieval reads, and what only sets the scene."""
    clean: str                  # markup stripped, full-width folded
    clauses: tuple[Clause, ...]
    focus: str                  # asking clauses and their context, introductions left out

    @property
    def only_pleasantries(self) -> bool:
        """"你好", "谢谢啦", "在吗？": nothing is asked."""
        return bool(self.clauses) and all(c.role in ("greeting", "thanks") for c in self.clauses)

    @property
    def is_thanks(self) -> bool:
        return self.only_pleasantries and any(c.role == "thanks" for c in self.clauses)

    @property
    def is_long(self) -> bool:
        return len(self.clauses) > 2 or len(self.clean) > 40

    def questions(self) -> str:
        """The asking clauses alone: what is asked about ("几场"), without the scene ("孩子们")."""
        return "，".join(c.text for c in self.clauses if c.role == "ask")

    def last_question(self) -> str:
        """The last asking clause: in a long message the question itself usually comes last, after
        the story ("大专毕业好几年了…本科以后会不会多补一点")."""
        return next((c.text for c in reversed(self.clauses) if c.role == "ask"), "")

    def asking(self) -> str:
        """Only the clauses that ask, the one just before each (where the topic usually is), and what
        the asker heard since the last question ("听说工会有个开学第一课的活动，…，去年搞了几场")."""
        keep: list[int] = []
        since = 0
        for i, c in enumerate(self.clauses):
            if c.role == "ask":
                heard = [j for j in range(since, i - 1) if self.clauses[j].role == "context"
                         and _HEARSAY.match(self.clauses[j].text)]
                for j in (*heard, i - 1, i):
                    if j >= 0 and self.clauses[j].role in ("ask", "context") and j not in keep:
                        keep.append(j)
                since = i + 1
        return "，".join(self.clauses[i].text for i in sorted(keep))


def _role(text: str) -> str:
    folded = re.sub(r"[\s\W_]+", "", text.lower())
    if not folded:
        return "greeting"
    if _GREETING_CLAUSE.match(folded):
        return "greeting"
    if _THANKS_CLAUSE.match(folded):
        return "thanks"
    asks = bool(_ASK.search(_NOT_ASKING.sub("", text)))
    if _INTRO.search(folded) and not asks:
        return "intro"
    if asks:
        return "ask"
    return "context"


def split_clauses(text: str) -> list[str]:
    return [p.strip() for p in _CLAUSE_END.split(text) if p and p.strip()]


def read_message(raw: str | None) -> ReadMessage:
    clean = strip_markup(raw or "")
    parts = split_clauses(clean)
    # A greeting fused to the question ("你好我想问体检") is still the question.
    clauses = tuple(Clause(p, _role(p)) for p in parts)
    kept = [c.text for c in clauses if c.role in ("ask", "context")]
    if not kept:      # nothing but introduction: the introduction is all there is to read
        kept = [c.text for c in clauses if c.role == "intro"]
    return ReadMessage(clean, clauses, "，".join(kept))
