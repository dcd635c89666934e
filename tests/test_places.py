"""Places inside a served district (knowledge/data/places.yaml) name that district."""
from __future__ import annotations

import pytest

from knowledge.districts import place_district, places
from knowledge.matcher import TextPreparer
from knowledge.normalize import SynonymMap


def test_every_place_is_named_by_its_districts_document_and_by_no_other(kb_files):
    by_district: dict[str, str] = {}
    for doc in kb_files.documents:
        by_district[doc.district] = by_district.get(doc.district, "") + doc.text
    assert places()
    for place, district in places().items():
        assert place in by_district[district], f"{place} is not in {district}'s document"
        others = [d for d, text in by_district.items() if d != district and place in text]
        assert not others, f"{place} is also in the documents of {others}"


@pytest.mark.parametrize(("text", "district"), [
    ("我是杭州湾开发区一家企业的职工，听说园区有个大课堂", "上虞区"),
    ("我在超山附近的厂里上班", "临平区"),
    ("草莓小镇的劳模讲课是哪位", "建德市"),
    ("宁波杭州湾新区的企业能参加吗", None),        # a place the bot does not serve beside it
    ("我家在寿昌，老婆在百官上班", None),           # places of two districts: no guess
    ("工会体检怎么报名", None),
])
def test_place_district(text, district):
    assert place_district(text) == district


def test_a_named_district_wins_over_a_place_and_the_place_stays_in_the_text():
    prep = TextPreparer(SynonymMap([]))
    assert prep.prepare("临平的职工去寿昌疗休养").districts == ("临平区",)
    found = prep.prepare("草莓小镇的劳模讲课")
    assert found.districts == ("建德市",) and "草莓小镇" in found.text


def test_a_chatty_message_naming_a_place_is_answered_for_its_district(engine):
    a = engine.answer("你好，我是杭州湾开发区一家企业的职工，听说园区有个大课堂挺火的，"
                      "思政课、培训课、比武课啥都有？叫啥名来着，怎么参加")
    assert a.matched and a.district == "上虞区"
