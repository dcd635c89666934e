"""The fact rules of `kb validate`, one by one, on small made-up documents."""
import pytest

from knowledge.facts import ERROR, WARNING, FactChecker
from knowledge.facts.quantities import chinese_number, quantities_in, years_in
from knowledge.model import SourceDocument
from knowledge.source_text import CAPTION, GAP

LINPING = SourceDocument(
    "d-lp", "临平", "临平区", "2021–2026", "临平区总工会",
    "## 大会闭幕\n\n2021年8月3日,临平区工会第一次代表大会胜利闭幕。\n\n## 善作善成有量化\n\n"
    "- 到2026年底,建成“爱心驿站”20个\n\n- 五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个\n",
    tense="plan", tense_by_heading={"大会闭幕": "done"})
SHANGYU = SourceDocument(
    "d-sy", "上虞", "上虞区", "2022–2023", "上虞区总工会",
    "在“服务”上发力 当好职工信赖的“娘家人”\n\n"
    "去年，上虞区总工会走访慰问困难职工家庭、春节留虞职工等1300余人次，发放慰问资金及物资260万元。"
    "鼓励一线职工疗休养活动，补助职工990名，补助金额40万元。全年职工医疗互助理赔9895人次，理赔金额493.42万元。"
    f"开展高温送清凉活动，慰问资金近35万元。坚持正确选人用人导向，1名干部担任{GAP}\n", tense="done")
JIANDE = SourceDocument(
    "d-jd", "建德", "建德市", "2021", "建德市总工会",
    "“在这么近的地方就能上大学，边上班边学习，市总工会还给我们报销学费，这个政策太好了……”说起求学经历，"
    "员工邵瑞珍言语中充满喜悦。自2012年启动以来，累计帮助1136名产业工人圆了大学梦。"
    f"动员78051人次职工参加职工医疗互助。\n\n{CAPTION}组织职工篮球赛\n", tense="done")
FUYANG = SourceDocument(
    "d-fy", "富阳", "富阳区", "2024–2025", "富阳区总工会",
    "## 2024年成就\n\n建立20家工会“爱心驿站”服务阵地。\n\n## 2025年重点\n\n"
    "推进免费体检疗休养暖心享等福利向新就业群体延伸覆盖。\n",
    tense="done", tense_by_heading={"2024年成就": "done", "2025年重点": "plan"})
CHECKER = FactChecker([LINPING, SHANGYU, JIANDE, FUYANG])


def findings(answer, *sources, district="上虞区", category="福利活动", alternates=("上虞福利",) * 4, level=None):
    raw = {"id": "t.entry", "district": district, "category": category, "answer": answer,
           "alternates": list(alternates), "sources": [{"document": d, "quote": q} for d, q in sources]}
    found = CHECKER.check(raw)
    return [f.message for f in found if level is None or f.level == level]


def errors(answer, *sources, **kw):
    return findings(answer, *sources, level=ERROR, **kw)


SY_990 = ("d-sy", "鼓励一线职工疗休养活动，补助职工990名，补助金额40万元。")
SY_CLAIMS = ("d-sy", "全年职工医疗互助理赔9895人次，理赔金额493.42万元。")


# ------------------------------------------------------------------ quantities
def test_quantities_bind_value_unit_and_what_they_count():
    keys = [q.key for q in quantities_in("补助职工990名，补助金额40万元，新增13.56万人，1300余人次，第二批32家")]
    assert keys == ["990名", "40万元", "13.56万名", "1300余人次", "第2批", "32家"]
    assert [q.key for q in quantities_in("每人每年补助三千元，七成，万名一线职工，近两年")] == \
        ["3000元", "7成", "10000名", "2年"]
    assert [q.key for q in quantities_in("“926工匠日”“惠骑八条2.0版”")] == ["926工", "8条", "2版"]


def test_years_and_the_hotline_are_not_quantities():
    assert [q.key for q in quantities_in("2021年8月3日，拨打12351")] == ["8月", "3日"]
    assert years_in("据2024–2025年的报道，(2021~2023年)") == {"2024", "2025", "2021", "2023"}
    assert "2022" not in years_in("2021–2026年")


def test_chinese_numbers():
    assert [chinese_number(t) for t in ("三千", "十五", "一百零五", "两", "万", "一万二千")] == \
        [3000, 15, 105, 2, 10000, 12000]
    assert chinese_number("八八八八") is None and chinese_number("百千") is None


def test_a_number_must_keep_its_unit():
    assert errors("据2023年的报道，上虞区补助职工990名，补助金额40万元。", SY_990) == []
    problem = errors("据2023年的报道，上虞区每人补助990元。", SY_990)
    assert any("990元" in p and "990名" in p for p in problem)
    assert any("493.42元" in p for p in errors("据2023年的报道，上虞区理赔金额493.42元。", SY_CLAIMS))


def test_chinese_numeral_amounts_are_checked_like_digits():
    assert any("三千元" in p for p in errors("据2023年的报道，上虞区每人每年补助三千元。", SY_990))


def test_approximate_figures_keep_their_word():
    quote = ("d-sy", "开展高温送清凉活动，慰问资金近35万元。")
    assert errors("据2023年的报道，上虞区慰问资金近35万元。", quote) == []
    assert any("近35万元" in p for p in errors("据2023年的报道，上虞区慰问资金35万元。", quote))


def test_scope_words_next_to_a_number_must_be_in_the_quote():
    problem = errors("据2023年的报道，上虞区每人最高可理赔493.42万元。", SY_CLAIMS)
    assert any("每人" in p and "493.42万元" in p for p in problem)


def test_a_group_the_quote_limits_a_figure_to_must_be_kept():
    quote = ("d-lp", "五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个")
    ok = "临平区总工会在2021年提出：五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个。"
    assert errors(ok, quote, district="临平区", alternates=["临平"] * 4) == []
    bad = errors("临平区总工会在2021年提出：五年提供免费体检名额20000个。", quote, district="临平区",
                 alternates=["临平"] * 4)
    assert any("优秀职工" in p and "20000个" in p for p in bad)


def test_a_total_over_a_list_is_not_limited_to_its_last_item():
    quote = ("d-sy", "去年，上虞区总工会走访慰问困难职工家庭、春节留虞职工等1300余人次，发放慰问资金及物资260万元。")
    assert errors("据2023年的报道，上虞区走访慰问困难职工家庭等1300余人次。", quote) == []


# ------------------------------------------------------------------ years
def test_a_year_must_be_the_quotes_own_or_its_sections():
    quote = ("d-lp", "到2026年底,建成“爱心驿站”20个")
    kw = {"district": "临平区", "alternates": ["临平"] * 4}
    assert errors("临平区总工会在2021年提出目标：到2026年底建成“爱心驿站”20个。", quote, **kw) == []
    assert any("2023年" in p for p in errors("临平区于2023年建成“爱心驿站”20个。", quote, **kw))
    fy = ("d-fy", "建立20家工会“爱心驿站”服务阵地。")
    kw = {"district": "富阳区", "alternates": ["富阳"] * 4}
    assert errors("据富阳区总工会的报道，2024年建立20家工会“爱心驿站”服务阵地。", fy, **kw) == []
    assert any("2025年" in p for p in errors("富阳区2025年建立20家工会“爱心驿站”服务阵地。", fy, **kw))


def test_an_answer_without_any_year_is_warned():
    assert any("年份" in p for p in findings("上虞区补助职工990名。", SY_990, level=WARNING))


# ------------------------------------------------------------------ districts
OVERVIEW = {"district": None, "alternates": ["a"] * 4}
JD_MED = ("d-jd", "动员78051人次职工参加职工医疗互助。")
SY_MED = SY_CLAIMS


def test_each_district_clause_is_carried_by_its_own_document():
    ok = "上虞区2022年职工医疗互助理赔9895人次；建德市2021年动员78051人次职工参加职工医疗互助。"
    assert errors(ok, SY_MED, JD_MED, **OVERVIEW) == []
    bad = errors("上虞区2022年动员78051人次职工参加职工医疗互助；建德市2021年动员职工参加职工医疗互助。",
                 SY_MED, JD_MED, **OVERVIEW)
    assert any("78051人次" in p and "建德市" in p for p in bad)


def test_a_district_clause_needs_that_districts_quote_and_its_year():
    bad = errors("富阳区2024年建立20家工会驿站；上虞区职工医疗互助理赔9895人次。", SY_MED, JD_MED, **OVERVIEW)
    assert any("富阳区" in p and "没有引用" in p for p in bad)
    assert any("上虞区的分句没有写年份" in p for p in bad)


def test_a_district_clause_whose_words_are_not_in_its_quotes_is_warned():
    answer = "上虞区2022年开通三色欠薪预警台并建设法律援助服务圈；建德市2021年动员78051人次职工参加职工医疗互助。"
    warned = findings(answer, SY_MED, JD_MED, level=WARNING, **OVERVIEW)
    assert any("上虞区" in p and "字词" in p for p in warned)


# ------------------------------------------------------------------ terms
def test_phone_address_and_hours_in_any_script_must_be_quoted():
    bad = errors("据2023年的报道，上虞区驿站位于百官街道江滨西大道一百号，上午九点至下午五点开放，"
                 "电话八八八八一二三四。", SY_990)
    assert any("地址" in p for p in bad) and any("开放时间" in p for p in bad) and any("电话" in p for p in bad)
    assert any("0575-82123456" in p for p in errors("据2023年的报道，上虞区热线0575-82123456。", SY_990))
    assert errors("请拨打12351职工服务热线。据2023年的报道，上虞区补助职工990名。", SY_990) == []


def test_money_words_must_be_in_the_quote_unless_the_clause_says_the_source_is_silent():
    assert any("“免费”" in p for p in errors("据2023年的报道，上虞区一线职工可免费疗休养，补助职工990名。", SY_990))
    assert errors("据2023年的报道，上虞区补助职工990名。文中没有写是否免费、能否全额报销。", SY_990) == []


def test_a_programme_name_must_be_in_the_quote():
    assert any("“暖蜂行动”" in p for p in errors("据2023年的报道，上虞区推出“暖蜂行动”，补助职工990名。", SY_990))


# ------------------------------------------------------------------ tense
LP_STATION = ("d-lp", "到2026年底,建成“爱心驿站”20个")
LP = {"district": "临平区", "alternates": ["临平"] * 4}


def test_a_target_must_not_be_told_as_done():
    assert errors("临平区总工会在2021年提出目标：到2026年底建成“爱心驿站”20个。", LP_STATION, **LP) == []
    assert any("已完成" in p for p in errors("临平区已经建成“爱心驿站”20个（2021年提出）。", LP_STATION, **LP))
    quota = ("d-lp", "五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个")
    bad = errors("临平区2021年的优秀职工免费疗休养名额8000个、免费体检名额20000个已全部发放。", quota, **LP)
    assert any("已完成" in p for p in bad)


def test_a_result_may_be_told_as_done():
    assert errors("据2023年的报道，上虞区已补助职工990名。", SY_990) == []


def test_present_tense_needs_a_quote_that_says_so():
    assert any("“正在”" in p for p in errors("据2023年的报道，上虞区正在补助职工990名。", SY_990))


def test_section_tense_comes_from_the_documents_reading():
    fy = ("d-fy", "推进免费体检疗休养暖心享等福利向新就业群体延伸覆盖。")
    bad = errors("据富阳区总工会的报道，2025年已全部推进免费体检疗休养暖心享等福利向新就业群体延伸覆盖。", fy,
                 district="富阳区", alternates=["富阳"] * 4)
    assert any("已完成" in p for p in bad)


# ------------------------------------------------------------------ quotes
def test_a_quote_must_be_a_whole_clause_not_a_heading_or_across_a_gap():
    assert any("不是完整的分句" in p for p in errors("据2023年的报道，上虞区补助职工990名。", ("d-sy", "补助职工990")))
    assert any("是标题" in p for p in errors("据2023年的报道，上虞区当好职工信赖的娘家人。",
                                          ("d-sy", "在“服务”上发力 当好职工信赖的“娘家人”")))
    assert any("原文缺失" in p for p in errors("据2023年的报道，上虞区1名干部担任。",
                                            ("d-sy", f"坚持正确选人用人导向，1名干部担任{GAP}")))


def test_text_is_not_joined_across_a_gap():
    doc = SourceDocument("d-gap", "富阳", "富阳区", "2024", "富阳区总工会",
                         f"实施“百位名师带高徒”活动，建立评有条件、聘有仪式、带有{GAP}\n\n"
                         f"{GAP}计划、考有标准、奖有兑现等名师带高徒工作机制。\n")
    checker = FactChecker([doc])
    raw = {"id": "t", "district": "富阳区", "category": "技能", "alternates": ["富阳"] * 4,
           "sources": [{"document": "d-gap", "quote": "实施“百位名师带高徒”活动，建立评有条件、聘有仪式、带有"},
                       {"document": "d-gap", "quote": "计划、考有标准、奖有兑现等名师带高徒工作机制。"}]}
    joined = dict(raw, answer="2024年实施“百位名师带高徒”活动，建立评有条件、聘有仪式、带有计划、考有标准等工作机制。")
    assert any("连成了一句" in f.message for f in checker.check(joined))
    apart = dict(raw, answer="2024年实施“百位名师带高徒”活动，建立评有条件、聘有仪式……考有标准等（原文此处有缺失）。")
    assert not any("连成了一句" in f.message for f in checker.check(apart))


def test_a_heading_may_be_quoted_as_a_heading():
    quote = ("d-sy", "在“服务”上发力 当好职工信赖的“娘家人”")
    assert errors("据2023年的报道，上虞区这一部分的小标题是“在‘服务’上发力 当好职工信赖的‘娘家人’”。", quote) == []


def test_a_photo_caption_may_carry_the_event_it_shows():
    assert errors("据建德市总工会2021年的报道，报道配图是组织职工篮球赛。", ("d-jd", "组织职工篮球赛"),
                  district="建德市", alternates=["建德"] * 4) == []


def test_a_workers_remark_is_reported_as_theirs_not_as_a_rule():
    remark = ("d-jd", "在这么近的地方就能上大学，边上班边学习，市总工会还给我们报销学费")
    kw = {"district": "建德市", "alternates": ["建德"] * 4}
    assert any("个人说的话" in p for p in errors("建德市总工会2021年的项目给职工报销学费。", remark, **kw))
    assert any("个人说的话" in p for p in errors("建德市总工会2021年的报道只说这个项目给报销学费。", remark, **kw))
    assert errors("据2021年的报道，有职工说，边上班边学习，市总工会还给报销学费。", remark, **kw) == []


def test_a_quote_that_shares_nothing_with_the_answer_is_warned():
    warned = findings("据2023年的报道，上虞区补助职工990名。", SY_990, JD_MED, level=WARNING)
    assert any("没有共同的内容" in p for p in warned)


# ------------------------------------------------------------------ alternates
@pytest.mark.parametrize("alternate,warned", [
    ("工会福利都有啥", True), ("上虞工会福利都有啥", False), ("疗休养补助多少", True)])
def test_a_district_entrys_alternate_names_its_district_or_a_name_only_it_has(alternate, warned):
    found = findings("据2023年的报道，上虞区补助职工990名。", SY_990, alternates=[alternate] + ["上虞"] * 3,
                     level=WARNING)
    assert any(alternate in p for p in found) == warned


def test_a_name_only_the_districts_document_has_counts_as_naming_it():
    found = findings("据建德市总工会2021年的报道，自2012年启动以来，累计帮助1136名产业工人圆了大学梦。",
                     ("d-jd", "自2012年启动以来，累计帮助1136名产业工人圆了大学梦。"), district="建德市",
                     alternates=["产业工人圆了大学梦", "建德"] + ["建德"] * 2, level=WARNING)
    assert found == []
