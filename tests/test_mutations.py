"""Falsified copies of the shipped knowledge files must fail `kb validate`.

Each case changes one entry of a copy (in tmp_path) the way a careless edit or an eager
summary would: a true number put in a false sentence. The validator must reject it with a
message that names the entry and the claim. The first case of each kind is the one the
audit found (issue 10); the others are more of the same kind.
"""
import re
import shutil

import pytest

from knowledge.kbfiles import DATA_DIR, load_all, load_faq_file
from knowledge.validate import Validator


def _case(kind, entry, old, new, claim):
    return pytest.param(entry, old, new, claim, id=f"{kind}:{entry}:{claim}")


CASES = [
    # ---- another district's figure in an overview clause
    _case("other-district-figure", "general.stations",
          "富阳区2024年建立20家工会“爱心驿站”服务阵地", "富阳区2024年建立72家工会“爱心驿站”服务阵地", "72家"),
    _case("other-district-figure", "general.education",
          "富阳区2025年计划促进产业工人知识更新和学历提升", "富阳区2025年计划资助110名快递小哥学历提升", "110名"),
    _case("other-district-figure", "general.union-fee",
          "全年免减企业工会经费1700万元", "全年免减企业工会经费4273.34万元", "4273.34万元"),
    _case("other-district-figure", "general.skills-contest",
          "临平区2021年提出开展“职工技能争霸赛”", "临平区2021年提出开展职工技能竞赛128项", "128项"),
    # ---- a year the quote does not give
    _case("year", "general.stations",
          "临平区2021年提出目标，到2026年底建成“爱心驿站”20个", "临平区已于2023年建成“爱心驿站”20个", "2023"),
    _case("year", "linping.stations.target", "到2026年底建成“爱心驿站”20个", "到2024年底建成“爱心驿站”20个", "2024"),
    _case("year", "fuyang.org.new-unions",
          "2024年全年新建基层工会组织642家", "2025年全年新建基层工会组织642家", "2025"),
    _case("year", "jiande.health-check.2021", "于2021年6月15日至19日", "于2022年6月15日至19日", "2022"),
    _case("year", "shangyu.skills.textile-contest", "2022年5月，上虞区曹娥街道", "2020年5月，上虞区曹娥街道", "2020"),
    # ---- amounts in Chinese numerals
    _case("chinese-numerals", "shangyu.sanatorium.frontline-subsidy", "补助金额40万元", "每人每年补助三千元", "三千元"),
    _case("chinese-numerals", "jiande.medical-aid.stats", "补助金额273.97万元", "补助金额二百七十万元", "二百七十万元"),
    _case("chinese-numerals", "linping.education.junior-college",
          "提供补助，并", "提供补助，每人补助两千元，并", "两千元"),
    _case("chinese-numerals", "gongshu.hardship.return-tickets",
          "为企业提供返岗车票补贴1000人", "为企业提供返岗车票补贴一千五百人", "一千五百人"),
    _case("chinese-numerals", "fuyang.skills.senior-worker-reward",
          "共计发放补贴38.95万元", "高级工补贴七成由工会承担", "七成"),
    # ---- an address, opening hours or phone written without Arabic digits
    _case("contact", "gongshu.stations.count",
          "拱墅区以72个工会驿站为前置阵地开展服务。",
          "拱墅区以72个工会驿站为前置阵地开展服务，驿站地址是湖墅南路二百号，上午九点开放，电话八五一二三四五六。",
          "八五一二三四五六"),
    _case("contact", "jiande.stations.love-station",
          "新建和提升改造“爱心驿站”10家。",
          "新建和提升改造“爱心驿站”10家，位于新安江街道江滨中路一百零八号。",
          "江滨中路一百零八号"),
    _case("contact", "fuyang.stations.count", "服务阵地；", "服务阵地，开放时间为每天上午八点至晚上八点；", "上午八点"),
    _case("contact", "bot.no-contacts",
          "例如富阳区建立20家工会“爱心驿站”。",
          "例如富阳区建立20家工会“爱心驿站”。拱墅区总工会电话是八八八八一二三四。",
          "八八八八一二三四"),
    _case("contact", "linping.rights.legal-aid",
          "做到“有求必应，应援尽援”。", "做到“有求必应，应援尽援”，法律援助热线0571-86123456。", "0571-86123456"),
    # ---- a target told as done
    _case("plan-as-done", "linping.education.baiqian",
          "2000名大专学历教育提升职工提供补助。", "2000名大专学历教育提升职工提供补助，已全部发放。", "已全部发放"),
    _case("plan-as-done", "linping.sanatorium.free-quota",
          "五年提供优秀职工免费疗休养名额8000个。", "已经提供优秀职工免费疗休养名额8000个。", "已经提供"),
    _case("plan-as-done", "linping.women.mommy-room",
          "到2026年底建成“妈咪暖心小屋”50个", "已建成“妈咪暖心小屋”50个", "已建成"),
    _case("plan-as-done", "fuyang.women.services",
          "2025年将拓宽做优女工服务工作", "2025年已拓宽做优女工服务工作", "已拓宽"),
    _case("plan-as-done", "general.new-employment", "提出推出“惠骑八条2.0版”", "已推出“惠骑八条2.0版”", "已推出"),
    # ---- a total told per person, a unit changed
    _case("unit", "shangyu.medical-aid.claims", "理赔金额493.42万元", "每人最高可理赔493.42元", "493.42元"),
    _case("unit", "fuyang.funds.relief", "上缴工会经费4273.34万元", "上缴工会经费4273.34元", "4273.34元"),
    _case("unit", "gongshu.join.real-name", "新增会员实名制13.56万人", "新增会员实名制13.56万元", "13.56万元"),
    _case("unit", "jiande.rest-trip.agreements", "1065批次、38665人", "1065批次、38665批次", "38665批次"),
    _case("unit", "shangyu.union-funds.waiver", "全年免减企业工会经费1700万元", "全年免减企业工会经费1700元", "1700元"),
    # ---- another district's figure in a district's clause of an overview
    _case("district-clause", "general.medical-aid",
          "上虞区（2023年的报道）推动职工医疗互助纳入智慧医保系统，实现一站式结算",
          "上虞区2022年动员78051人次职工参加职工医疗互助",
          "78051人次"),
    _case("district-clause", "general.health-check",
          "建德市2021年为1098名企业一线职工免费体检", "上虞区2022年为1098名企业一线职工免费体检", "1098名"),
    _case("district-clause", "general.women-workers",
          "临平区2021年提出目标，到2026年底建成“妈咪暖心小屋”50个", "临平区2021年创建“妈咪小屋”10家", "10家"),
    _case("district-clause", "general.collective-bargaining",
          "临平区2021年提出提升工资集体协商有效性", "临平区2021年签订集体合同1200余份", "1200余份"),
    _case("district-clause", "general.org-building",
          "富阳区2024年新建基层工会组织642家", "富阳区2024年新建工会177家", "177家"),
    # ---- a count of people told as money
    _case("what-it-counts", "shangyu.sanatorium.frontline-subsidy", "补助职工990名", "每人补助990元", "990元"),
    _case("what-it-counts", "fuyang.skills.senior-worker-reward",
          "奖励晋升高级工的职工779名", "每人奖励779元", "779元"),
    _case("what-it-counts", "gongshu.education.xiaoge-college",
          "资助110名快递小哥学历提升", "每人资助110元学历提升", "110元"),
    _case("what-it-counts", "jiande.health-check.2021",
          "为全市1098名企业一线职工", "为全市1098元企业一线职工", "1098元"),
    # ---- scope widened: who a figure is for dropped
    _case("scope", "linping.health-check.quota",
          "原文写的是：“五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个”。原文没有写明这20000个免费体检名额是否只给优秀职工，",
          "提出：五年提供免费体检名额20000个。",
          "20000个"),
    _case("scope", "general.rest-trip",
          "五年提供优秀职工免费疗休养名额8000个", "五年提供免费疗休养名额8000个", "8000个"),
    _case("scope", "general.union-fee", "退还中小微企业工会经费280万元", "退还企业工会经费280万元", "280万元"),
    _case("scope", "fuyang.funds.small-refund",
          "返还小额缴费工会组织工会经费23.54万元", "返还工会组织工会经费23.54万元", "23.54万元"),
    _case("scope", "general.hardship",
          "2022年走访慰问困难职工家庭等1300余人次", "2022年走访慰问职工家庭等1300余人次", "1300余人次"),
    # ---- a worker's remark told as the programme's rule
    _case("remark", "jiande.education.university-aid",
          "报道中有职工说，在家门口就能边上班边学习，市总工会还给报销学费。",
          "市总工会给上大学的职工报销学费。",
          "报销学费"),
    _case("remark", "general.education", "报道中有职工说市总工会给报销学费", "市总工会给报销学费", "报销学费"),
    _case("remark", "jiande.education.how-to",
          "报道中有职工说市总工会给报销学费", "市总工会规定给报销学费", "报销学费"),
    # ---- text run on across a gap in the original
    _case("across-gap", "fuyang.skills.mentor-apprentice",
          "聘有仪式……考有标准", "聘有仪式、带有计划、考有标准", "带有计划"),
    _case("across-gap", "shangyu.new-forms.mental-health",
          "提供专项心理服务。报道另一段写到，百官街道", "提供专项心理服务，如百官街道", "服务，如百"),
    _case("across-gap", "shangyu.model-workers.craftsmen",
          "上虞区有浙江工匠6名", "上虞区以点带面形成“产改”家、浙江工匠6名", "产改"),
    # ---- a plan or an old article told as happening now
    _case("present", "shangyu.new-forms.joining",
          "并进一步推动新业态、新就业群体建会入会", "目前正在推动新业态、新就业群体建会入会", "正在"),
    _case("present", "jiande.skills.training-signup", "据建德市总工会2021年的报道，", "目前，", "目前"),
    _case("present", "linping.stations.target", "临平区总工会在2021年定下目标：", "临平区现在", "现在"),
]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """A copy of the shipped data directory, and a validator over its documents."""
    root = tmp_path_factory.mktemp("shipped") / "data"
    shutil.copytree(DATA_DIR, root)
    files = load_all(root)
    return root, Validator(files.documents, [c["name"] for c in files.categories])


def _mutate(root, tmp_path, entry_id, old, new):
    """The copied FAQ file holding the entry, with `old` replaced by `new` inside that entry only."""
    for source in sorted((root / "faq").glob("*.yaml")):
        text = source.read_text("utf-8")
        m = re.search(rf"^  - id: {re.escape(entry_id)}\n", text, re.M)
        if not m:
            continue
        end = text.find("\n  - id: ", m.end())
        end = len(text) if end < 0 else end
        block = text[m.start():end]
        assert old in block, f"{old!r} is not in {entry_id}"
        target = tmp_path / source.name
        target.write_text(text[:m.start()] + block.replace(old, new, 1) + text[end:], "utf-8")
        return load_faq_file(target)
    raise AssertionError(f"no entry {entry_id}")


@pytest.mark.parametrize("entry_id,old,new,claim", CASES)
def test_a_falsified_fact_fails_validation_naming_the_entry_and_the_claim(shipped, tmp_path, entry_id, old, new, claim):
    root, validator = shipped
    name, raw = next((n, r) for n, r in _mutate(root, tmp_path, entry_id, old, new) if r.get("id") == entry_id)
    problems = validator.check_entry(raw, name)
    assert problems, f"{entry_id}: “{new}” passed validation"
    named = [str(p) for p in problems if f"[{entry_id}]" in str(p) and claim in str(p)]
    assert named, f"no problem names {entry_id} and “{claim}”: " + " | ".join(map(str, problems))


def test_every_kind_has_the_audits_case_and_three_more():
    kinds: dict[str, int] = {}
    for case in CASES:
        kind = case.id.split(":", 1)[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    core = ("other-district-figure", "year", "chinese-numerals", "contact", "plan-as-done", "unit",
            "district-clause", "what-it-counts")
    assert all(kinds.get(k, 0) >= 4 for k in core), kinds


def test_the_unchanged_copy_passes(shipped):
    root, validator = shipped
    files = load_all(root)
    problems = validator.check_all(files.faq_raw, warnings=True)
    assert problems == [], "\n".join(map(str, problems[:10]))
