"""Reading a chat message: markup, clauses and their roles, the focus retrieval reads."""
import pytest

from knowledge.message import read_message, split_clauses, strip_markup

CHATTY = ("你好，我是拱墅一家纺织厂的老工人，在厂里干了二十多年了，眼睛都有点花了，"
          "厂里工会说区里每年都办一个工匠日的系列活动，我想问问这个工匠日叫什么名字？谢谢啦")


def test_markup_is_stripped_and_full_width_latin_folded():
    assert strip_markup("<b>临平</b> **体检** [名额](https://x.org/a) ＡＢＣ１２") == "临平 体检 名额 ABC12"
    assert strip_markup("&lt;临平&gt; `体检`") == "<临平> 体检"
    assert "http" not in strip_markup("看这里 https://example.org/a?b=1 体检")


def test_clauses_split_on_punctuation_emoji_and_spaces_between_words():
    assert split_clauses("你好 我是送外卖的 上个月车坏了。。。驿站能修车？") == \
        ["你好", "我是送外卖的", "上个月车坏了", "驿站能修车"]
    assert split_clauses("开心😆这是第一次") == ["开心", "这是第一次"]
    assert split_clauses("休闲、研学各种类型") == ["休闲、研学各种类型"]      # an enumeration stays one clause


def test_roles_greeting_intro_ask_context_thanks():
    roles = [(c.role, c.text) for c in read_message(CHATTY).clauses]
    assert roles[0] == ("greeting", "你好")
    assert ("intro", "我是拱墅一家纺织厂的老工人") in roles
    assert ("intro", "在厂里干了二十多年了") in roles
    assert ("ask", "我想问问这个工匠日叫什么名字") in roles
    assert roles[-1] == ("thanks", "谢谢啦")


def test_focus_keeps_the_question_and_its_context_not_the_introduction():
    m = read_message(CHATTY)
    assert "工匠日" in m.focus and "叫什么名字" in m.focus
    assert "纺织厂的老工人" not in m.focus and "你好" not in m.focus and "谢谢" not in m.focus
    assert m.is_long
    assert "工匠日叫什么名字" in m.asking()


@pytest.mark.parametrize("text", ["你好", "您好！", "在吗？", "老师你好", "谢谢", "谢谢啦😊", "好的，收到", "hi"])
def test_pleasantries_alone_ask_nothing(text):
    assert read_message(text).only_pleasantries


@pytest.mark.parametrize("text", ["你好，体检怎么报名", "谢谢，那驿站在哪", "临平体检"])
def test_a_question_with_a_greeting_is_still_a_question(text):
    assert not read_message(text).only_pleasantries


def test_thanks_is_told_from_a_greeting():
    assert read_message("谢谢啦").is_thanks
    assert not read_message("你好").is_thanks


def test_an_introduction_alone_is_read_as_the_question():
    m = read_message("我是送外卖的")
    assert m.focus == "我是送外卖的"


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "<br/>", "**"])
def test_empty_and_symbol_only_messages(text):
    m = read_message(text)
    assert m.focus == ""


def test_interrogatives_used_as_indefinites_do_not_ask():
    m = read_message("我是富阳的老师，现在的孩子对劳动没啥概念，什么都不懂。工会的开学第一课去年搞了几场啊？")
    roles = {c.text: c.role for c in m.clauses}
    assert roles["现在的孩子对劳动没啥概念"] == "context" and roles["什么都不懂"] == "context"
    assert m.questions() == "工会的开学第一课去年搞了几场啊"


@pytest.mark.parametrize("heard", ["听说工会有个开学第一课的活动", "听朋友讲工会在搞职工疗休养",
                                   "看到新闻说有个暖心驿站"])
def test_what_the_asker_heard_stays_with_the_question_it_leads_to(heard):
    m = read_message(f"你好，我是富阳的老师，家长也不重视，{heard}，会请人来学校讲，去年一共搞了几场啊？谢谢")
    asked = m.asking()
    assert asked.startswith(heard) and asked.endswith("会请人来学校讲，去年一共搞了几场啊")
    assert "家长也不重视" not in asked and "老师" not in asked


def test_hearsay_leads_only_to_the_question_after_it():
    m = read_message("体检一年几次？听说工会还有疗休养，挺好的")
    assert m.asking() == "体检一年几次"
    m = read_message("听说工会有疗休养，真好，我们厂每年都有体检，公司也发了通知，体检一年几次？")
    assert m.asking() == "听说工会有疗休养，公司也发了通知，体检一年几次"
