"""The one YAML reader for files from outside (admin uploads, `admin import`, `stations import`, kb files).

Why: PyYAML's SafeLoader is safe from code execution but not from size: a few
hundred bytes of nested aliases expand to gigabytes (a 642-byte upload took the
bot to 2.5 GB), 5,000 nested brackets exhaust the stack, and keys that are
lists or numbers crash whatever reads the result. Knowledge and station files
need none of that, so this reader refuses anchors, aliases and explicit tags,
caps size, nesting and node count, wants text keys (each once), and turns every
failure into one Chinese message with line and column. Dates stay text.
"""
from __future__ import annotations

import re

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent, ScalarEvent
from yaml.nodes import MappingNode, ScalarNode

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 20
MAX_NODES = 300_000
STR_TAG = "tag:yaml.org,2002:str"
# NUL breaks PostgreSQL text; a lone surrogate cannot be stored or sent as UTF-8.
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


class YamlRefused(ValueError):
    """A YAML text that is not read; `str()` is the message for the person who sent it."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None, name: str = "",
                 message: str | None = None):
        self.problem, self.line, self.column, self.name = problem, line, column, name
        where = f"第 {line} 行第 {column} 列" if line and column else (f"第 {line} 行" if line else "")
        super().__init__(message or "：".join(x for x in (f"{name} {where}".strip(), problem) if x))


def _refuse(problem: str, mark) -> YamlRefused:
    return YamlRefused(problem, mark.line + 1, mark.column + 1) if mark is not None else YamlRefused(problem)


def unstorable(text: str) -> YamlRefused | None:
    """The first character no database column can take (for CSV files, which have no reader of their own)."""
    bad = _BAD_CHARS.search(text)
    if bad is None:
        return None
    at = bad.start()
    line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
    return YamlRefused(f"含有无法保存的字符 U+{ord(bad.group()):04X}", line, column)


class _Loader(yaml.SafeLoader):
    """SafeLoader with limits; `line_key` adds each mapping's first line under that key."""

    line_key: str | None = None

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise _refuse(f"不支持 YAML 别名（*{event.anchor}），请把内容直接写出来", event.start_mark)
        if isinstance(event, NodeEvent) and event.anchor is not None:
            raise _refuse(f"不支持 YAML 锚点（&{event.anchor}），请把内容直接写出来", event.start_mark)
        if isinstance(event, (ScalarEvent, CollectionStartEvent)) and event.tag not in (None, "!"):
            raise _refuse(f"不支持 YAML 标签（{event.tag}）", event.start_mark)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _refuse(f"内容太多（超过 {MAX_NODES} 个值）", event.start_mark)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _refuse(f"嵌套太深（超过 {MAX_DEPTH} 层）", event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except YamlRefused:
            raise
        except (ValueError, TypeError, OverflowError) as exc:        # e.g. an int of 5,000 digits
            raise _refuse(f"无法读取这个值（{str(exc)[:80]}）", node.start_mark) from None

    def construct_scalar(self, node):
        value = super().construct_scalar(node)
        bad = _BAD_CHARS.search(value)
        if bad:
            raise _refuse(f"含有无法保存的字符 U+{ord(bad.group()):04X}", node.start_mark)
        return value

    def construct_mapping(self, node: MappingNode, deep=False):
        seen: set[str] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != STR_TAG:
                shown = f"“{key_node.value[:40]}”" if isinstance(key_node, ScalarNode) else "列表或键值对"
                raise _refuse(f"键应为文本，这里是{shown}（数字、true/false 等作键请加引号）", key_node.start_mark)
            if key_node.value in seen:
                raise _refuse(f"键“{key_node.value[:40]}”重复", key_node.start_mark)
            seen.add(key_node.value)
        mapping = super().construct_mapping(node, deep=deep)
        if self.line_key:
            mapping[self.line_key] = node.start_mark.line + 1
        return mapping


# Dates stay text ("2025-03-01"), and an impossible one ("2025-13-45") is not an error.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(text: str, name: str = "", line_key: str | None = None, max_bytes: int = MAX_BYTES) -> object:
    """Reads one YAML document within the limits, or raises YamlRefused (never anything else)."""
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise YamlRefused(f"文件太大（上限 {max_bytes // 1024} KB）", name=name)
    loader = None
    try:
        loader = _Loader(text)
        loader.line_key = line_key
        return loader.get_single_data()
    except YamlRefused as exc:
        raise YamlRefused(exc.problem, exc.line, exc.column, name) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise YamlRefused(f"含有不允许的字符 U+{exc.character:04X}" if isinstance(exc.character, int)
                          else "含有不允许的字符", line, column, name) from None
    except yaml.MarkedYAMLError as exc:
        from .text_input import yaml_error_text  # the parser's English, said in Chinese with the line

        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "格式错误"
        raise YamlRefused(f"YAML 格式错误（{problem}）", *((mark.line + 1, mark.column + 1) if mark else ()),
                          name=name, message=yaml_error_text(exc, name or "文件", text)) from None
    except (yaml.YAMLError, RecursionError, MemoryError) as exc:
        raise YamlRefused(f"YAML 格式错误（{type(exc).__name__}）", name=name) from None
    finally:
        if loader is not None:
            loader.dispose()
