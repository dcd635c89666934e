"""Reading and writing the version-controlled knowledge files under knowledge/data/."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import safe_yaml
from .model import FaqEntry, SourceDocument

DATA_DIR = Path(__file__).resolve().parent / "data"
LINE_KEY = "__line__"


class KnowledgeFileError(ValueError):
    """A file that cannot be read at all (bad YAML, wrong top-level shape)."""


def load_yaml(text: str, name: str = "<text>") -> object:
    """Through the one safe reader (no aliases, limits); each mapping gets its line under LINE_KEY."""
    try:
        return safe_yaml.load(text, name, line_key=LINE_KEY)
    except safe_yaml.YamlRefused as exc:
        raise KnowledgeFileError(str(exc)) from None


def strip_lines(value):
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


@dataclass
class KnowledgeFiles:
    documents: list[SourceDocument] = field(default_factory=list)
    categories: list[dict] = field(default_factory=list)
    synonyms: list[list[str]] = field(default_factory=list)
    faq_raw: list[tuple[str, dict]] = field(default_factory=list)   # (file name, raw mapping)

    def entries(self) -> list[FaqEntry]:
        return [FaqEntry.from_content(strip_lines(raw)) for _, raw in self.faq_raw]


def load_documents(data_dir: Path = DATA_DIR) -> list[SourceDocument]:
    meta = strip_lines(load_yaml((data_dir / "sources.yaml").read_text("utf-8"), "sources.yaml"))
    docs = []
    for d in meta["documents"]:
        docs.append(SourceDocument(
            id=str(d["id"]), title=d["title"], district=d.get("district"), years=str(d["years"]),
            publisher=d.get("publisher", ""), text=(data_dir / d["file"]).read_text("utf-8"),
            union_text_ends_at=d.get("union_text_ends_at"),
            tense=d.get("tense", ""), tense_by_heading=dict(d.get("tense_by_heading") or {}),
        ))
    return docs


def load_faq_file(path: Path) -> list[tuple[str, dict]]:
    data = load_yaml(path.read_text("utf-8"), path.name)
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise KnowledgeFileError(f"{path.name}：顶层应为 `entries:` 列表")
    return [(path.name, raw) for raw in data["entries"]]


def load_all(data_dir: Path = DATA_DIR) -> KnowledgeFiles:
    """Every knowledge file; a file that cannot be read or has the wrong shape is a KnowledgeFileError."""
    files = KnowledgeFiles()
    try:
        files.documents = load_documents(data_dir)
        files.categories = strip_lines(load_yaml((data_dir / "categories.yaml").read_text("utf-8"),
                                                 "categories.yaml"))["categories"]
        syn = strip_lines(load_yaml((data_dir / "synonyms.yaml").read_text("utf-8"), "synonyms.yaml"))
        files.synonyms = [list(map(str, g)) for g in syn.get("groups", [])]
    except (KeyError, TypeError, AttributeError) as exc:
        raise KnowledgeFileError(f"{data_dir}：sources/categories/synonyms 文件结构不对（{exc!r}）") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeFileError(f"无法读取知识文件：{exc}") from None
    for path in sorted((data_dir / "faq").glob("*.yaml")):
        try:
            files.faq_raw.extend(load_faq_file(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise KnowledgeFileError(f"无法读取 {path.name}：{exc}") from None
    return files


def fingerprint(data_dir: Path = DATA_DIR) -> int:
    """A 60-bit digest of every file `load_all` reads and of the code that reads them: a process that
    finds it already recorded by the last import skips reading, validating and importing the files
    (most of a one-shot `ask`'s start-up)."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    paths = [here / "kbfiles.py", here / "model.py", here / "safe_yaml.py",
             *(data_dir / n for n in ("sources.yaml", "categories.yaml", "synonyms.yaml")),
             *sorted((data_dir / "faq").glob("*.yaml")), *sorted((data_dir / "sources").glob("*"))]
    for path in paths:
        digest.update(str(path.relative_to(data_dir) if path.is_relative_to(data_dir) else path.name).encode())
        digest.update(b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<missing>")
        digest.update(b"\0")
    return int(digest.hexdigest()[:15], 16)


# ------------------------------------------------------------------ export
class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper, value: str):
    style = ">" if len(value) > 60 and "\n" not in value else ("|" if "\n" in value else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_entries(entries: list[FaqEntry]) -> str:
    body = {"entries": [e.content() for e in entries]}
    return yaml.dump(body, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


FILE_FOR_DISTRICT = {"拱墅区": "gongshu.yaml", "富阳区": "fuyang.yaml", "临平区": "linping.yaml",
                     "上虞区": "shangyu.yaml", "建德市": "jiande.yaml", None: "general.yaml"}


def export_entries(entries: list[FaqEntry], out_dir: Path) -> list[Path]:
    """Writes entries back as one file per district; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    by_file: dict[str, list[FaqEntry]] = {}
    for e in sorted(entries, key=lambda e: e.id):
        by_file.setdefault(FILE_FOR_DISTRICT.get(e.district, "other.yaml"), []).append(e)
    written = []
    for name, group in sorted(by_file.items()):
        path = out_dir / name
        path.write_text(dump_entries(group), encoding="utf-8")
        written.append(path)
    return written
