"""How workers really write: long chatty messages, everyday words, no district, vague questions."""
import pytest


@pytest.mark.parametrize("message,district,expect,where", [
    ("你好 我是送外卖的 上个月电瓶车半路坏了 推了两公里才找到修车的。。。听人说有劳模师傅在驿站帮人修车？"
     "真的有吗 是哪位师傅啊", "拱墅区", "孔胜东", "拱墅区"),
    ("哈喽～我今年被厂里评上优秀员工了😆 开心！厂里说区工会有优秀职工免费疗休养的名额，五年一共有多少个啊？",
     "临平区", "8000", "临平区"),
    ("您好，我是一家民宿的老板，在新安江边上，也想接工会的疗休养团，房间多、环境也不错，"
     "市总工会跟哪些单位签了疗休养合作协议啊？签了几份", "建德市", "8份", "建德市"),
])
def test_a_chatty_message_is_answered_from_its_question(engine, message, district, expect, where):
    a = engine.answer(message, district)
    assert a.matched, a.answer
    assert expect in a.answer.replace(" ", "")
    assert a.district == where


def test_markup_does_not_hide_the_question(engine):
    a = engine.answer("<b>临平</b> **免费体检** 名额有多少？")
    assert a.matched and "20000" in a.answer


@pytest.mark.parametrize("text,kind", [("你好", "greeting"), ("在吗？", "greeting"), ("谢谢啦😊", "thanks")])
def test_pleasantries_get_a_short_friendly_reply(engine, text, kind):
    a = engine.answer(text)
    assert a.kind == kind and not a.matched
    assert "超出" not in a.answer and len(a.answer) < 120


@pytest.mark.parametrize("text", ["补贴", "工会有什么福利", "有没有钱拿", "培训"])
def test_a_vague_question_gets_choices_not_one_narrow_entry(engine, text):
    a = engine.answer(text)
    districts = {s.district for s in a.sources if s.district}
    assert len(a.suggestions) >= 2 or len(districts) >= 2, (a.kind, a.faq_id)
    assert "超出了我能回答的范围" not in a.answer


def test_no_district_gets_the_cross_district_answer_not_one_districts(engine):
    a = engine.answer("职工医疗互助怎么参加")
    assert a.faq_id is None or engine.by_id[a.faq_id].district is None or len(a.suggestions) >= 2
    assert len({s.district for s in a.sources}) >= 2 or len(a.suggestions) >= 2


def test_a_named_district_wins_over_the_overview(engine):
    a = engine.answer("富阳职工医疗互助怎么参加")
    assert a.matched and a.district == "富阳区"
    assert all(s.district == "富阳区" for s in a.sources)


def test_on_topic_but_unanswered_is_not_out_of_scope(engine):
    a = engine.answer("驿站几点开门")
    assert "超出了我能回答的范围" not in a.answer
    assert "没有写明" in a.answer or a.suggestions


@pytest.mark.parametrize("text", ["公积金怎么提取", "明天天气怎么样", "你好，我想问问考驾照要多少钱，科目二好难啊"])
def test_questions_about_nothing_the_bot_covers_are_declined(engine, text):
    a = engine.answer(text)
    assert not a.matched and a.kind == "out_of_scope"
