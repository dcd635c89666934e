"""`kb validate`: the shipped files pass (strict too), and invented facts are caught.

The fact rules one by one are in test_facts.py; falsified copies of the shipped files in
test_mutations.py."""
import copy
import subprocess
import sys

import pytest
import yaml

from bot.setup import validate_files
from knowledge.validate import Validator
from tests.conftest import ROOT


def test_shipped_knowledge_files_are_valid_even_strictly(kb_files):
    problems = validate_files(kb_files, strict=True)
    assert problems == [], "\n".join(map(str, problems[:30]))
    assert len(kb_files.faq_raw) >= 150


@pytest.mark.parametrize("strict", [False, True])
def test_kb_validate_command_passes(strict):
    out = subprocess.run([sys.executable, "run_bot.py", "kb", "validate", *(["--strict"] if strict else [])],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("OK:") and last.endswith("0 warning(s)" if strict else "0 problem(s)"), last


@pytest.fixture
def validator(kb_files):
    return Validator(kb_files.documents, [c["name"] for c in kb_files.categories])


@pytest.fixture
def good_entry():
    return {
        "id": "linping.test", "district": "临平区", "category": "体检",
        "question": "临平免费体检名额", "alternates": ["a1", "a2", "a3", "a4"], "keywords": ["体检"],
        "answer": "临平区2021年提出：五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个。"
                  "请咨询临平区总工会或拨打12351职工服务热线。",
        "sources": [{"document": "002_b22997240e314b2b",
                     "quote": "五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个"}],
    }


def test_a_good_entry_passes(validator, good_entry):
    assert validator.check_entry(good_entry, "t.yaml") == []


def test_a_changed_number_is_rejected(validator, good_entry):
    bad = copy.deepcopy(good_entry)
    bad["answer"] = bad["answer"].replace("20000", "30000")
    problems = validator.check_entry(bad, "t.yaml")
    assert any("30000" in p.message for p in problems)


def test_a_quote_not_in_the_source_is_rejected(validator, good_entry):
    bad = copy.deepcopy(good_entry)
    bad["sources"][0]["quote"] = "五年提供优秀职工免费疗休养名额8000个、免费体检名额30000个"
    assert any("引文不在文档" in p.message for p in validator.check_entry(bad, "t.yaml"))


def test_whitespace_in_quotes_is_ignored(validator, good_entry):
    ok = copy.deepcopy(good_entry)
    ok["sources"][0]["quote"] = "五年提供优秀职工免费疗休养名额8000个、免费体检 名额\n20000 个"
    assert validator.check_entry(ok, "t.yaml") == []


def test_an_unknown_district_is_rejected(validator, good_entry):
    bad = copy.deepcopy(good_entry)
    bad["district"] = "西湖区"
    assert any("未知的区县" in p.message for p in validator.check_entry(bad, "t.yaml"))


def test_a_source_of_another_district_is_rejected(validator, good_entry):
    bad = copy.deepcopy(good_entry)
    bad["district"] = "上虞区"
    assert any("引用了临平区的文档" in p.message for p in validator.check_entry(bad, "t.yaml"))


@pytest.mark.parametrize("field,value,fragment", [
    ("category", "不存在的分类", "未知分类"),
    ("alternates", ["only one"], "至少需要"),
    ("id", "Bad ID!", "id 只能"),
    ("sources", [], "至少需要一条来源"),
])
def test_schema_problems_are_named(validator, good_entry, field, value, fragment):
    bad = copy.deepcopy(good_entry)
    bad[field] = value
    assert any(fragment in p.message for p in validator.check_entry(bad, "t.yaml"))


def test_missing_field_and_duplicate_id(validator, good_entry):
    bad = copy.deepcopy(good_entry)
    del bad["answer"]
    assert any("answer" in p.message for p in validator.check_entry(bad, "t.yaml"))
    problems = validator.check_all([("a.yaml", good_entry), ("b.yaml", copy.deepcopy(good_entry))])
    assert any("id 重复" in p.message for p in problems)


def test_the_report_year_and_the_hotline_are_allowed_a_year_in_between_is_not(validator, good_entry):
    ok = copy.deepcopy(good_entry)
    ok["answer"] = "临平区在2021年提出：五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个。可拨打12351。"
    assert validator.check_entry(ok, "t.yaml") == []
    bad = copy.deepcopy(good_entry)
    bad["answer"] = "临平区2023年提供优秀职工免费疗休养名额8000个、免费体检名额20000个。"
    assert any("2023年" in p.message for p in validator.check_entry(bad, "t.yaml"))


def test_warnings_only_when_asked(validator, good_entry):
    warned = copy.deepcopy(good_entry)
    warned["district"] = "临平区"
    warned["alternates"] = ["工会福利都有啥", "a2", "a3", "a4"]
    assert validator.check_entry(warned, "t.yaml") == []
    problems = validator.check_entry(warned, "t.yaml", warnings=True)
    assert problems and all(p.level == "warning" and str(p).count("警告：") == 1 for p in problems)


def test_the_format_guides_example_passes_strictly(validator):
    """FORMAT.md teaches by example: the example must be a valid entry, warnings included."""
    guide = (ROOT / "knowledge" / "data" / "FORMAT.md").read_text("utf-8")
    block = guide.split("```yaml", 1)[1].split("```", 1)[0]
    raw = yaml.safe_load(block)["entries"][0]
    assert validator.check_entry(raw, "FORMAT.md", warnings=True) == []
    assert "优秀职工" in raw["answer"]
