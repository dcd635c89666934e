"""`kb validate`: the shipped files pass, and invented facts are caught."""
import copy
import subprocess
import sys

import pytest

from bot.setup import validate_files
from knowledge.validate import Validator, numbers_in
from tests.conftest import ROOT


def test_shipped_knowledge_files_are_valid(kb_files):
    problems = validate_files(kb_files)
    assert problems == [], "\n".join(map(str, problems[:20]))
    assert len(kb_files.faq_raw) >= 150


def test_kb_validate_command_passes():
    out = subprocess.run([sys.executable, "run_bot.py", "kb", "validate"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1].startswith("OK:")


@pytest.fixture
def validator(kb_files):
    return Validator(kb_files.documents, [c["name"] for c in kb_files.categories])


@pytest.fixture
def good_entry():
    return {
        "id": "linping.test", "district": "临平区", "category": "体检",
        "question": "临平免费体检名额", "alternates": ["a1", "a2", "a3", "a4"], "keywords": ["体检"],
        "answer": "临平区五年提供免费体检名额20000个，请咨询临平区总工会或拨打12351职工服务热线。",
        "sources": [{"document": "002_b22997240e314b2b", "quote": "免费体检名额20000个"}],
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
    bad["sources"][0]["quote"] = "免费体检名额30000个"
    assert any("引文不在文档" in p.message for p in validator.check_entry(bad, "t.yaml"))


def test_whitespace_in_quotes_is_ignored(validator, good_entry):
    ok = copy.deepcopy(good_entry)
    ok["sources"][0]["quote"] = "免费体检 名额\n20000 个"
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


def test_years_of_the_cited_document_and_the_hotline_are_allowed(validator, good_entry):
    ok = copy.deepcopy(good_entry)
    ok["answer"] = "临平区在2021年提出到2026年的目标：免费体检名额20000个。可拨打12351。"
    assert validator.check_entry(ok, "t.yaml") == []


def test_number_extraction_is_token_level():
    assert numbers_in("名额20000个，13.56万人") == {"20000", "13.56"}
    assert "2000" not in numbers_in("20000")
