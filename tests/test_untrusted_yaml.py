"""Files from outside (admin uploads, `admin import`, `stations import`): alias bombs, deep nesting,
odd keys and random damage get a Chinese answer with the place, never an exception, and write nothing."""
from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.admin import AdminService, ImportResult
from bot.cli import main
from bot.config import load_settings
from bot.models import AuditRow, FaqRow, StationRow
from bot.setup import open_app
from knowledge import safe_yaml
from knowledge.station_files import parse_station_text

FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=150,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])

# The billion-laughs shape: nine levels of nine aliases (~387 million strings once expanded).
BOMB = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" + "".join(
    f"{b}: &{b} [*{a},*{a},*{a},*{a},*{a},*{a},*{a},*{a},*{a}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))


@pytest.fixture(scope="module")
def module_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    app = open_app(load_settings(DATABASE_URL=f"sqlite:///{path}", _env_file=None))
    yield app
    app.db.dispose()


@pytest.fixture(scope="module")
def svc(module_app):
    return AdminService(module_app)


def _state(app) -> tuple:
    with app.db.reading() as s:
        return (app.repos.knowledge.version(), s.scalar(select(func.count()).select_from(FaqRow)),
                s.scalar(select(func.count()).select_from(StationRow)),
                s.scalar(select(func.count()).select_from(AuditRow)))


def _import_changes_nothing_unless_ok(svc, name: str, data: bytes) -> ImportResult:
    before = _state(svc.app)
    result = svc.import_file(name, data, "fuzz")
    assert isinstance(result, ImportResult) and isinstance(result.report(), str)
    if not result.ok:
        assert result.problems and _state(svc.app) == before
    return result


# ------------------------------------------------------------------ the reported files
@pytest.mark.parametrize("head", ["entries:\n  - id: x\n    question: &q q\n",
                                  "stations:\n  - id: s\n    name: &q n\n"])
def test_an_alias_bomb_upload_is_refused_before_it_expands(svc, head):
    result = _import_changes_nothing_unless_ok(svc, "bomb.yaml", (head + BOMB).encode())
    assert not result.ok and ("锚点" in result.problems[0] or "别名" in result.problems[0])
    assert "第 " in result.problems[0] and "列" in result.problems[0]


def test_a_tiny_station_file_cannot_store_megabytes(svc):
    text = "x: &s [\"" + "驿" * 40 + "\"]\n" + "".join(f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
                                                     for p, n in zip("stuvw", "tuvwx", strict=True))
    text += "stations:\n  - {id: s1, name: n, district: 临平区, latitude: 30.4, longitude: 120.3, services: *x}\n"
    assert len(text.encode()) < 1000
    result = _import_changes_nothing_unless_ok(svc, "s.yaml", text.encode())
    assert not result.ok and "锚点" in result.problems[0]


@pytest.mark.parametrize("text,expected", [
    ("entries: " + "[" * 5000 + "]" * 5000, "嵌套太深"),
    ("entries:\n" + "".join("  " * i + "- \n" for i in range(1, 300)), "嵌套太深"),
    ("entries:\n  - id: a\n    1: x\n", "键应为文本"),
    ("entries:\n  - ? [a, b]\n    : x\n", "键应为文本"),
    ("entries:\n  - {id: a, id: b}\n", "重复"),
    ("entries:\n  - !!python/object/apply:os.system [ls]\n", "标签"),
    ("entries:\n  - id: \"\\0\"\n", "U+0000"),
    ("entries:\n  - id: \"\\ud800\"\n", "U+D800"),
    ("entries:\n  - id: 1" + "0" * 5000 + "\n", "无法读取"),
    ("stations:\n  - id: a\n    <<: {name: x}\n", "键应为文本"),
])
def test_malformed_yaml_gets_a_chinese_answer_with_its_place(svc, text, expected):
    result = _import_changes_nothing_unless_ok(svc, "bad.yaml", text.encode())
    assert not result.ok and expected in result.problems[0], result.problems
    assert "第 " in result.problems[0]


def test_station_kind_longer_than_the_column_is_a_problem_not_a_crash(svc):
    text = ("stations:\n  - {id: s1, name: n, district: 临平区, latitude: 30.4, longitude: 120.3, kind: "
            + "k" * 41 + "}\n")
    result = _import_changes_nothing_unless_ok(svc, "s.yaml", text.encode())
    assert not result.ok and "kind" in result.problems[0]


@pytest.mark.parametrize("name,data", [
    ("s.csv", b"id,name,district,latitude,longitude\ns1,n\x00x,\xe4\xb8\xb4\xe5\xb9\xb3,30.4,120.3\n"),
    ("f.csv", b"id,district,category,question,alternates,keywords,answer,source_document,source_quote\n"
              b"a\x00,,,,,,,,\n"),
])
def test_a_nul_character_in_a_csv_is_refused(svc, name, data):
    result = _import_changes_nothing_unless_ok(svc, name, data)
    assert not result.ok and "U+0000" in result.problems[0]


# ------------------------------------------------------------------ fuzzing
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                     st.sampled_from(["临平区", "拱墅", "health", "30.4", "120.3", "爱心驿站", ""]))
_keys = st.one_of(st.sampled_from(["id", "name", "district", "latitude", "longitude", "question", "answer",
                                   "alternates", "keywords", "sources", "category", "document", "quote", "services",
                                   "kind", "active", "is_example", "entries", "stations", "__line__"]),
                  st.text(max_size=8), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(_keys, inner, max_size=5)), max_leaves=25)
_TOKENS = ["&a ", "*a", "[", "]", "{", "}", ": ", "- ", "!!str ", "!!binary ", "? ", "<<: ", "\t", "\n  ", "'", '"',
           "\\x00", "\\ud800", "#", "|", ">", "%YAML 1.1\n---\n", "...", "---", "\ufeff", "~", "2025-13-45", "1e999"]


def _dump(value) -> str:
    try:
        return yaml.dump(value, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, TypeError, ValueError):
        return repr(value)


@st.composite
def yaml_files(draw, top: str) -> str:
    """A document shaped like an import (with shared objects, so the dumper writes anchors), then damaged."""
    items = draw(st.lists(_values, max_size=4))
    if draw(st.booleans()) and items:
        items.append(items[0])                         # the same object twice: &id001 / *id001
    text = _dump({top: items} if draw(st.booleans()) else items)
    for _ in range(draw(st.integers(0, 4))):
        pos = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        text = text[:pos] + draw(st.one_of(st.sampled_from(_TOKENS), st.text(max_size=3))) + text[pos + cut:]
    return text


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


@FUZZ
@given(text=yaml_files("entries"))
def test_fuzzed_faq_yaml_uploads(svc, text):
    _import_changes_nothing_unless_ok(svc, "faq.yaml", _encode(text))


@FUZZ
@given(text=yaml_files("stations"))
def test_fuzzed_station_yaml_uploads(svc, text):
    _import_changes_nothing_unless_ok(svc, "stations.yaml", _encode("stations:\n" + text))


_cells = st.one_of(st.text(alphabet=string.printable + "临平区驿站，\x00", max_size=12),
                   st.sampled_from(["临平区", "30.4", "120.3", "nan", "inf", "-1e400", "", '"', '""x']))


@FUZZ
@given(header=st.sampled_from(["id,name,district,kind,latitude,longitude,address,hours,services",
                               "id,district,category,question,alternates,keywords,answer,source_document,source_quote",
                               "id,name", ""]),
       rows=st.lists(st.lists(_cells, max_size=10), max_size=6))
def test_fuzzed_csv_uploads(svc, header, rows):
    text = header + "\n" + "\n".join(",".join(r) for r in rows)
    _import_changes_nothing_unless_ok(svc, "upload.csv", _encode(text))


@FUZZ
@given(data=st.binary(max_size=300), name=st.sampled_from(["a.yaml", "a.yml", "a.csv", "a.txt"]))
def test_fuzzed_bytes(svc, data, name):
    _import_changes_nothing_unless_ok(svc, name, data)


@FUZZ
@given(text=st.one_of(yaml_files("stations"), st.text(max_size=200)), fmt=st.sampled_from(["yaml", "csv"]))
def test_fuzzed_station_lists_parse_to_problems_not_exceptions(text, fmt):
    parsed = parse_station_text(text, fmt)
    assert all(isinstance(str(p), str) for p in parsed.problems)


@FUZZ
@given(text=st.one_of(yaml_files("entries"), st.text(max_size=200)))
def test_the_safe_reader_raises_nothing_but_its_refusal(text):
    try:
        safe_yaml.load(text, "文件", line_key="__line__")
    except safe_yaml.YamlRefused as exc:
        assert str(exc).startswith("文件")


# ------------------------------------------------------------------ the command line
@pytest.mark.parametrize("command", [["admin", "import"], ["stations", "import"]])
@pytest.mark.parametrize("text", [
    "stations:\n  - id: s\n    name: &q n\n" + BOMB,
    "entries: " + "[" * 5000,
    "stations:\n  - {1: a}\n",
    "stations:\n  - id: [unclosed\n",
])
def test_cli_imports_refuse_bad_yaml_without_a_traceback(command, text, tmp_path, monkeypatch, capsys, module_app):
    monkeypatch.setenv("DATABASE_URL", module_app.db.url)
    path = tmp_path / "upload.yaml"
    path.write_text(text, encoding="utf-8")
    before = _state(module_app)
    assert main([*command, str(path)]) == 1
    out = capsys.readouterr()
    assert "第 " in out.out + out.err and _state(module_app) == before


@FUZZ
@given(text=yaml_files("stations"))
def test_fuzzed_cli_station_imports(text, tmp_path_factory, module_app, capsys):
    import os
    path = tmp_path_factory.mktemp("cli") / "s.yaml"
    path.write_bytes(_encode("stations:\n" + text))
    os.environ["DATABASE_URL"] = module_app.db.url
    try:
        before = _state(module_app)
        if main(["stations", "import", str(path)]) != 0:
            assert _state(module_app) == before
    finally:
        os.environ.pop("DATABASE_URL", None)
    capsys.readouterr()


@pytest.mark.parametrize("text", ["entries:\n  - id: &a x\n" + BOMB, "entries: " + "[" * 5000,
                                  "entries:\n  - {1: x}\n"])
def test_kb_import_of_a_bad_knowledge_file_changes_nothing(text, tmp_path, monkeypatch, capsys, module_app):
    import shutil

    from knowledge.kbfiles import DATA_DIR
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    (data / "faq" / "zz-upload.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", module_app.db.url)
    before = _state(module_app)
    assert main(["kb", "import", "--data-dir", str(data)]) == 1
    assert "zz-upload.yaml 第 " in capsys.readouterr().out and _state(module_app) == before


def test_a_docx_that_unpacks_to_far_more_than_it_weighs_is_refused_before_it_is_read():
    """A .docx is a zip: a small upload can hold a document.xml of hundreds of megabytes."""
    import io
    import zipfile

    import docx

    from bot.admin import AdminError, extract_text
    real = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("临平区总工会开展职工免费体检活动。")
    document.save(real)
    bomb = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(real.getvalue())) as src, \
            zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 1_300_000)
            dst.writestr(item.filename, data)
    assert len(bomb.getvalue()) < 2 * 1024 * 1024
    assert "免费体检" in extract_text("real.docx", real.getvalue())
    with pytest.raises(AdminError, match="解压"):
        extract_text("bomb.docx", bomb.getvalue())
    with pytest.raises(AdminError):
        extract_text("broken.docx", b"PK\x03\x04 not really a zip")
