"""Answering the aspect that was asked: the reply leads with what the source says on it, or that it is silent."""
import pytest

from knowledge.aspects import ASPECTS, BY_NAME, asked, evidence


@pytest.mark.parametrize("question,aspect", [
    ("疗休养能带家属吗", "family"), ("临平疗休养能带老婆孩子一起去吗", "family"),
    ("建德免费体检是在哪家医院做的", "provider"), ("半价学车是哪家驾校", "provider"),
    ("上虞法律援助的电话是多少", "phone"),
    ("驿站几点开门", "hours"), ("寿昌宫开放时间是几点到几点", "hours"),
    ("富阳爱心驿站分别在什么位置", "address"), ("文化活动中心的门牌号", "address"),
    ("返岗车票补贴每个人能补多少钱", "per_person"), ("一条建议能拿多少钱", "per_person"),
    ("医疗互助能报销多少比例", "amount"),
    ("心理咨询要不要收费", "cost"), ("入工会每个月要交多少会费", "cost"),
    ("佳缘交友活动离异的可以参加吗", "eligibility"), ("小候鸟培训班几岁的孩子能报名", "eligibility"),
    ("小哥学院怎么报名", "apply"), ("困难职工建档要交什么材料", "apply"),
    ("下一场是什么时候", "time"),
    ("惠骑八条具体是哪八条", "items"), ("135精品路线都去哪些地方", "address"),
])
def test_the_aspect_asked_is_recognised(question, aspect):
    assert asked(question).name == aspect


@pytest.mark.parametrize("question", ["临平免费体检名额", "小哥学院是什么", "工会驿站"])
def test_a_plain_topic_question_asks_no_aspect(question):
    assert asked(question) is None


def test_every_aspect_has_a_label_and_patterns():
    assert len({a.name for a in ASPECTS}) == len(ASPECTS)
    for a in ASPECTS:
        assert a.label and a.asks.pattern and a.evidence.pattern


@pytest.mark.parametrize("aspect,quote,found", [
    ("phone", "服务热线12351全天开通", True), ("phone", "建成爱心驿站20家", False),
    ("hours", "驿站每天8:00开放", True), ("hours", "建成爱心驿站20家", False),
    ("address", "湖墅南路职工文化活动中心完成改造", True), ("address", "建成爱心驿站20家", False),
    ("per_person", "每人补助500元", True), ("per_person", "补助职工990名，补助金额40万元", False),
    ("amount", "补助金额40万元", True), ("cost", "开展免费体检", True), ("cost", "体检名额20000个", False),
    ("family", "职工及其家属均可参加", True), ("family", "组织职工疗休养", False),
    ("provider", "在市第一人民医院体检", True), ("provider", "免费体检1098名", False),
    ("time", "6月15日至19日开展免费体检", True), ("apply", "一键扫码入会", True),
    ("eligibility", "面向一线职工", True), ("items", "包括登山、乒乓球、网球等", True),
])
def test_evidence_in_a_quote(aspect, quote, found):
    assert (evidence(BY_NAME[aspect], [quote]) is not None) is found


@pytest.mark.parametrize("question,district", [
    ("临平疗休养能带老婆孩子一起去吗", None),
    ("建德一线职工免费体检是在哪家医院做的", None),
    ("富阳的爱心驿站几点开门", None),
    ("上虞医疗互助每人一年交多少钱", None),
])
def test_a_silent_source_is_said_plainly_and_the_topic_kept(engine, question, district):
    a = engine.answer(question, district)
    assert "资料没有写明" in a.answer or "没有写" in a.answer
    assert "超出了我能回答的范围" not in a.answer


def test_the_source_given_aspect_leads_with_the_source_sentence(engine):
    a = engine.answer("建德免费体检是哪几天做的")
    assert a.matched and "6月15日" in a.answer
    assert a.aspect == "time"


def test_the_aspect_is_read_from_the_asking_clause_not_the_scene(engine):
    """孩子 in the scene is not a question about family members."""
    a = engine.answer("我是富阳的中学老师，孩子们对劳动没概念。听说工会请劳模工匠进校园给孩子们讲课，去年搞了几场？")
    assert a.aspect != "family"
    assert "带家属" not in a.answer
