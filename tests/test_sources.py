"""The cleaned source copies: faithful to the originals, and never quoted by a fragment or heading."""
import re
import sys

import pytest

from knowledge.kbfiles import DATA_DIR, load_documents
from knowledge.passages import sentences
from knowledge.source_text import CAPTION, GAP, ends_sentence, is_heading, is_list_item, paragraphs
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import clean_sources  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
COPIES = sorted((DATA_DIR / "sources").glob("*.txt"))
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside the project")


def _chars(text: str) -> str:
    return re.sub(r"\s+", "", text.replace(GAP, "").replace(CAPTION, ""))


@needs_seeds
@pytest.mark.parametrize("copy", COPIES, ids=lambda p: p.name[:3])
def test_each_copy_has_the_characters_of_its_original(copy):
    original = (SEEDS / copy.name).read_text("utf-8")
    assert _chars(copy.read_text("utf-8")) == _chars(original)


@needs_seeds
@pytest.mark.parametrize("copy", COPIES, ids=lambda p: p.name[:3])
def test_the_script_rebuilds_each_copy(copy):
    reading = clean_sources.READINGS[copy.name]
    assert clean_sources.clean((SEEDS / copy.name).read_text("utf-8"), reading) == copy.read_text("utf-8")


@pytest.mark.parametrize("copy", COPIES, ids=lambda p: p.name[:3])
def test_every_break_mid_sentence_is_a_heading_or_a_marked_gap(copy):
    reading = clean_sources.READINGS[copy.name]
    assert clean_sources.unexplained_breaks(copy.read_text("utf-8"), reading) == []


def test_gaps_are_marked_and_text_is_not_joined_across_them():
    text = (DATA_DIR / "sources" / "003_265a14f3281b8d8b.txt").read_text("utf-8")
    assert "1名干部担任" + GAP in text and GAP + "工会工作高质量发展。" in text
    assert "1名干部担任工会工作" not in text
    assert "提供专项心理服务，" + GAP in text


def test_words_split_across_paragraphs_and_fused_headings_are_repaired():
    gongshu = (DATA_DIR / "sources" / "000_35c1c4993e45d00d.txt").read_text("utf-8")
    assert "守好红色根脉·班前十分钟" in gongshu and "百日攻坚行动" in gongshu
    assert "\n\n打造技能人才创新赋能平台\n\n在全区工会系统启动" in gongshu
    assert "持续奋进坚持政治导向" not in gongshu
    shangyu = (DATA_DIR / "sources" / "003_265a14f3281b8d8b.txt").read_text("utf-8")
    assert "结合上虞产业集群特色，上虞区总工会" in shangyu and "集体协商和民主管理" in shangyu


def test_the_passage_fallback_offers_only_whole_sentences():
    for doc in load_documents():
        headings = {re.sub(r"\s+", "", p) for p in paragraphs(doc.text) if is_heading(p)}
        items = {re.sub(r"\s+", "", p[2:]) for p in paragraphs(doc.text) if is_list_item(p)}
        for s in sentences(doc.union_text()):
            assert GAP not in s, s
            assert s not in headings, s
            assert ends_sentence(s) or s in items, s
    everything = [s for doc in load_documents() for s in sentences(doc.text)]
    assert not any("1名干部担任" in s for s in everything)
    assert not any(s.startswith(("家、浙江工匠", "计划、考有标准", "行动计划(2021")) for s in everything)


def test_sentences_skip_headings_captions_fragments_and_gaps():
    text = (f"在“服务”上发力 当好职工信赖的“娘家人”\n\n{CAPTION}外卖小哥在爱心驿站休息了一会儿。\n\n"
            f"建立20家工会“爱心驿站”服务阵地。实施“百位名师带高徒”活动，建立评有条件、带有{GAP}\n\n"
            "- 五年提供优秀职工免费疗休养名额8000个\n")
    assert sentences(text) == ["建立20家工会“爱心驿站”服务阵地。", "五年提供优秀职工免费疗休养名额8000个"]
