"""Conversations: follow-ups read against the last turn, and standalone questions left alone."""
import pytest

from knowledge.conversation import MAX_TURNS, QUIET_SECONDS, Turn, append, recent, turn_of
from knowledge.followup import continues, new_part, readings


def converse(engine, *messages, district=None):
    """Answers each message with the turns before it, like the bot does; returns the answers."""
    turns, answers = (), []
    for i, text in enumerate(messages):
        a = engine.answer(text, district, turns)
        answers.append(a)
        turns = append(turns, turn_of(text, a, float(i)))
    return answers


def test_continuation_markers_and_what_is_new():
    assert continues("那富阳呢") and continues("本科呢") and continues("还有别的吗")
    assert not continues("临平读大专有补贴吗")
    assert new_part("那富阳呢") == ""
    assert new_part("建德那边呢") == ""
    assert new_part("那上虞的疗休养呢") == "疗休养"
    assert new_part("本科呢") == "本科"


def test_readings_write_the_follow_up_out_against_the_last_turn():
    last = Turn("临平读大专有补贴吗", "临平区", "linping.education.junior-college", "学历提升", "faq",
                "临平读大专有补贴吗")
    assert readings("那富阳呢", last) == ["读大专有补贴吗"]
    assert readings("本科呢", last) == ["读大专有补贴吗，本科", "学历提升，本科"]


@pytest.mark.parametrize("follow_up", ["那富阳呢", "富阳的呢"])
def test_another_district_is_answered_from_that_districts_own_entry_not_the_overview(engine, follow_up):
    # 富阳 has its own 体检 entry; the cross-district overview (which leads with 拱墅) is not the answer.
    first, second = converse(engine, "临平免费体检名额", follow_up)
    assert first.faq_id == "linping.health-check.quota"
    assert second.district == "富阳区" and second.continued
    assert second.faq_id == "fuyang.health-check.free"


def test_another_district_for_the_same_topic(engine):
    first, second = converse(engine, "临平读大专的职工，工会准备补助多少人", "那建德呢")
    assert first.district == "临平区" and "2000" in first.answer
    assert second.matched and second.district == "建德市"
    assert second.continued == "临平读大专的职工，工会准备补助多少人"


def test_a_sibling_item_in_the_same_district(engine):
    _, second = converse(engine, "临平读大专的职工，工会准备补助多少人", "本科呢")
    assert second.matched and second.district == "临平区" and "1000" in second.answer


def test_another_aspect_of_the_same_programme(engine):
    _, second = converse(engine, "上虞工会2022年办的心理公益培训，专题课开了多少场", "参加的有多少人次")
    assert second.matched and "2000人次" in second.answer.replace(" ", "")


def test_a_standalone_question_after_a_follow_up_is_not_bent(engine):
    answers = converse(engine, "建德工会免费体检给多少人做了", "是什么时候做的", "富阳合理化建议奖励基金有多少钱")
    assert answers[1].continued is not None
    last = answers[2]
    assert last.matched and last.continued is None and last.district == "富阳区"
    assert "100万" in last.answer


def test_the_conversation_district_carries_to_a_question_that_names_none(engine):
    answers = converse(engine, "拱墅第二批改造了多少个工会驿站", "一共有多少个驿站")
    assert answers[1].matched and answers[1].district == "拱墅区" and "72" in answers[1].answer


def test_without_history_a_bare_follow_up_is_not_guessed(engine):
    a = engine.answer("那富阳呢")
    assert a.continued is None
    assert a.kind in ("greeting", "choices", "not_found", "out_of_scope") or a.district == "富阳区"


def test_turns_expire_after_a_quiet_period_and_keep_only_the_last_few():
    turns = ()
    for i in range(MAX_TURNS + 2):
        turns = append(turns, Turn(f"q{i}", None, None, None, "faq", at=float(i)))
    assert len(turns) == MAX_TURNS and turns[-1].question == f"q{MAX_TURNS + 1}"
    assert recent(turns, now=turns[-1].at + 10) == turns
    assert recent(turns, now=turns[-1].at + QUIET_SECONDS + 1) == ()


def test_turns_survive_json():
    t = Turn("问", "临平区", "x", "体检", "faq", "问", 3.5)
    assert Turn.from_json(t.to_json()) == t


@pytest.mark.parametrize("text", ["那富阳呢", "建德有吗", "本科呢"])
def test_follow_ups_never_raise_on_an_empty_history(engine, text):
    engine.answer(text, None, ())


@pytest.mark.parametrize("unrelated", ["工会能帮我修自行车吗", "公积金怎么提取"])
def test_a_new_subject_after_an_answer_is_not_read_as_its_follow_up(engine, unrelated):
    """Unmarked, with a subject of its own that the last entry does not cover: never the last answer again."""
    first, second = converse(engine, "临平免费体检名额", unrelated)
    assert first.faq_id == "linping.health-check.quota"
    assert second.faq_id != first.faq_id and second.continued is None and not second.matched


def test_a_question_without_a_subject_continues_even_unmarked(engine):
    _, second = converse(engine, "建德工会签了几份疗休养合作协议", "都跟谁签的")
    assert second.continued == "建德工会签了几份疗休养合作协议" and second.district == "建德市"
