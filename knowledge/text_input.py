"""Reading people's files: which encoding a file is in, and what a YAML syntax error means, in Chinese.

Why: union staff edit CSVs in Excel on Chinese Windows, which saves GBK/GB18030,
and YAML by hand, where PyYAML's own messages ("expected <block end>, but found
'<block mapping start>'") mean nothing to them. Both must say, in plain Chinese,
what was read or where the file is wrong (line and column).
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import yaml

ENCODING_NAMES = {"utf-8": "UTF-8", "gb18030": "GBK/GB18030（中文 Windows 的 Excel 默认保存的编码）",
                  "utf-16": "UTF-16（Excel 的“Unicode 文本”）"}


class UnreadableText(ValueError):
    """Bytes that are not text in any encoding we accept."""


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str              # "utf-8", "gb18030" or "utf-16"

    @property
    def note(self) -> str | None:
        """What to tell the person when the file was not UTF-8 (None when it was)."""
        if self.encoding == "utf-8":
            return None
        return f"文件编码是 {ENCODING_NAMES[self.encoding]}，已按这种编码读取。"


def decode_text(data: bytes) -> DecodedText:
    """UTF-8 (with or without a BOM), UTF-16 with a BOM, else GB18030 (a superset of GBK and GB2312)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return DecodedText(data.decode("utf-16"), "utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return DecodedText(data.decode("utf-8-sig"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise UnreadableText("无法识别文件的编码：请用 UTF-8 保存（Excel：另存为“CSV UTF-8（逗号分隔）”）") from None
    if "\x00" in text:
        raise UnreadableText("这不像是文本文件（里面有二进制内容），请检查是否发错了文件")
    return DecodedText(text, "gb18030")


# PyYAML's problem texts -> what they mean to someone editing the file.
_PROBLEMS: tuple[tuple[str, str], ...] = (
    (r"found character '\\t' that cannot start any token", "不能用 Tab 缩进，请改用空格"),
    (r"mapping values are not allowed here",
     "这里不能出现“: ”（冒号后跟空格）。值里带冒号时，请给整个值加上引号"),
    (r"could not find expected ':'", "缺少“: ”：每一项应写成“名称: 值”，冒号后要有空格；或者是上一行的引号没有配对"),
    (r"expected <block end>, but found", "缩进对不上：这一行的缩进和同一层的其他行不一样（同一层要对齐，只用空格）"),
    (r"expected <block mapping start>|expected <block sequence start>", "缩进对不上：这一行的缩进和上下文不一致"),
    (r"expected ',' or '\]'", "方括号 [ ] 没有配对"),
    (r"expected ',' or '\}'", "花括号 { } 没有配对"),
    (r"while scanning a quoted scalar", "这里开始的引号没有配对"),
    (r"while parsing a flow sequence", "这里开始的方括号 [ ] 没有配对"),
    (r"while parsing a flow mapping", "这里开始的花括号 { } 没有配对"),
    (r"found unexpected end of stream", "文件意外结束：有引号或括号没有配对"),
    (r"found unknown escape character", "双引号里有无法识别的反斜杠 \\ 转义，请改用单引号，或写成 \\\\"),
    (r"found undefined alias", "用了没有定义的别名（*名称）"),
    (r"found duplicate anchor", "同一个锚点（&名称）定义了两次"),
    (r"expected a single document|another document", "文件里有多个 YAML 文档（---），只能有一个"),
    (r"found character '(.)' that cannot start any token", "值不能以“{0}”开头，请给这个值加上引号"),
    (r"unacceptable character|special characters are not allowed", "文件里有不可见的控制字符，请删掉后再试"),
    (r"found unhashable key", "键不能是列表或映射"),
    (r"expected alphabetic or numeric character", "锚点或别名（& 或 *）后面应是名称；值以 & 或 * 开头时请加引号"),
    (r"did not find expected key", "这里应是“名称: 值”，缩进或引号可能不对"),
    (r"did not find expected '-' indicator", "列表项应以“- ”开头，并和同一列表的其他项对齐"),
    (r"did not find expected node content", "这里缺少内容：可能多了一个逗号，或缩进不对"),
    (r"while scanning a block scalar", "多行文本（| 或 >）的缩进不对"),
)


def _meaning(problem: str, context: str) -> str:
    for pattern, text in _PROBLEMS:
        m = re.search(pattern, problem) or re.search(pattern, context)
        if m:
            return text.format(*m.groups()) if m.groups() else text
    return "YAML 格式不对"


def yaml_error_text(exc: yaml.YAMLError, name: str = "文件", source: str | None = None) -> str:
    """"faq.yaml 第 3 行第 5 列：缩进对不上……（这一行：「  answer: x」）", for any PyYAML error."""
    problem = str(getattr(exc, "problem", None) or "")
    context = str(getattr(exc, "context", None) or "")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if re.search(r"quoted scalar|flow (sequence|mapping)", context) and getattr(exc, "context_mark", None):
        mark = exc.context_mark          # point at the quote or bracket that was never closed
    if isinstance(exc, yaml.reader.ReaderError):
        problem, line, column = "unacceptable character", None, None
        if source is not None:
            before = source[: exc.position]
            line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
    elif mark is not None:
        line, column = mark.line + 1, mark.column + 1
    else:
        line = column = None
    where = f"第 {line} 行第 {column} 列" if line else ""
    head = " ".join(x for x in (name, where) if x) or "文件"
    text = f"{head}：YAML 格式错误，{_meaning(problem or ('' if where else str(exc)), context)}"
    if line and source is not None:
        lines = source.splitlines()
        if 0 < line <= len(lines) and lines[line - 1].strip():
            shown = lines[line - 1].rstrip()
            shown = shown if len(shown) <= 60 else shown[:59] + "…"
            text += f"（这一行：「{shown}」）"
    return text
