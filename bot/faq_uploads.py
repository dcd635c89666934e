"""An admin's FAQ upload (YAML or CSV) read into entries, each with the line of every field.

Why the field lines: a problem is reported at the line of the field that is wrong
("第 14 行：回答中的数字不在引文中"), not at the line where the entry starts, which
in a long YAML entry can be twenty lines away.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import yaml

from knowledge.kbfiles import LINE_KEY, KnowledgeFileError, load_yaml

CSV_FAQ_COLUMNS = ("id", "district", "category", "question", "alternates", "keywords", "answer",
                   "source_document", "source_quote")
CSV_FIELDS = {"source_document": "sources.0.document", "source_quote": "sources.0.quote"}
LIST_SEP = "|"
EMPTY_FILE = ("文件是空的，没有可导入的内容。问答条目请写在 entries: 下面（格式见 knowledge/data/FORMAT.md），"
              "驿站请写在 stations: 下面，或用 CSV。")


@dataclass
class UploadedEntry:
    line: int                                   # where the entry starts
    raw: dict | object                          # the entry as read (not yet validated)
    lines: dict[str, int] = field(default_factory=dict)   # field ("answer", "sources.0.quote") -> line

    def line_of(self, name: str | None) -> int:
        """The line of a field, of the nearest enclosing one ("sources.0" for "sources.0.quote"), else the
        entry's."""
        while name:
            if name in self.lines:
                return self.lines[name]
            name = name.rpartition(".")[0]
        return self.line


def _field_lines(node: yaml.Node, prefix: str = "") -> dict[str, int]:
    """Each key's line in a composed mapping (and the items of its sequences), one level of nesting deep."""
    found: dict[str, int] = {}
    if not isinstance(node, yaml.MappingNode):
        return found
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        name = f"{prefix}{key.value}"
        found[name] = key.start_mark.line + 1
        if isinstance(value, yaml.SequenceNode) and not prefix:
            for i, item in enumerate(value.value):
                found[f"{name}.{i}"] = item.start_mark.line + 1
                found.update(_field_lines(item, f"{name}.{i}."))
    return found


def _entry_nodes(text: str) -> list[yaml.Node]:
    """The composed nodes of the entries (the same document the loader read, without building objects)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if isinstance(root, yaml.MappingNode):
        root = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "entries"), None)
    return list(root.value) if isinstance(root, yaml.SequenceNode) else []


def read_yaml(text: str) -> list[UploadedEntry]:
    data = load_yaml(text, "")
    if data is None:
        raise KnowledgeFileError(EMPTY_FILE)
    if isinstance(data, dict):
        data = data.get("entries")
    if not isinstance(data, list):
        raise KnowledgeFileError("文件顶层应为 entries: 列表（每个条目以“- id: …”开头，"
                                 "格式见 knowledge/data/FORMAT.md）")
    nodes = _entry_nodes(text)
    rows = []
    for i, raw in enumerate(data):
        line = raw.get(LINE_KEY, 0) if isinstance(raw, dict) else 0
        lines = _field_lines(nodes[i]) if i < len(nodes) else {}
        rows.append(UploadedEntry(line, raw, lines))
    return rows


def read_csv(text: str) -> list[UploadedEntry]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_FAQ_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"第 1 行：缺少列 {', '.join(missing)}（需要：{', '.join(CSV_FAQ_COLUMNS)}）")
    columns = list(reader.fieldnames or [])
    rows = []
    end = reader.line_num
    for row in reader:
        start, end = end + 1, reader.line_num
        lines, line = {}, start                  # a quoted value may span lines: count them
        for column in columns:
            lines[CSV_FIELDS.get(column, column)] = line
            line += (row.get(column) or "").count("\n")
        lines["sources"] = lines.get("sources.0.document", start)
        split = lambda v: [x.strip() for x in (v or "").split(LIST_SEP) if x.strip()]  # noqa: E731
        rows.append(UploadedEntry(start, {
            "id": (row["id"] or "").strip(), "district": (row["district"] or "").strip() or None,
            "category": (row["category"] or "").strip(), "question": (row["question"] or "").strip(),
            "alternates": split(row["alternates"]), "keywords": split(row["keywords"]),
            "answer": (row["answer"] or "").strip(),
            "sources": [{"document": (row["source_document"] or "").strip(),
                         "quote": (row["source_quote"] or "").strip()}],
        }, lines))
    return rows
