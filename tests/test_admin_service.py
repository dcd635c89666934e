"""Admin operations (the brain under the Telegram admin menu and `run_bot.py admin`)."""
from dataclasses import replace

import pytest

from bot.admin import AdminError, AdminService
from bot.repositories import LoggedQuery


@pytest.fixture
def svc(app):
    return AdminService(app)


def test_admins_can_be_added_and_removed_but_never_the_last(svc):
    assert svc.add_admin(1, 100) and svc.is_admin(100)
    assert not svc.add_admin(1, 100)
    assert not svc.remove_admin(1, 100)          # the only admin stays
    svc.add_admin(100, 200)
    assert svc.remove_admin(200, 100) and not svc.is_admin(100)


def test_an_edit_is_answered_at_once_and_can_be_undone(svc, app):
    entry = svc.get("linping.health-check.quota")
    original = entry.answer
    svc.save(replace(entry, alternates=entry.alternates + ["临平职工体检福利有几个名额"]), actor=7)
    assert app.knowledge.engine.answer("临平职工体检福利有几个名额").faq_id == entry.id
    history = svc.history(entry.id)
    assert history[0].actor == "telegram:7" and history[0].action == "update"
    first = history[-1]                           # the import
    svc.restore(first.id, actor=7)
    assert svc.get(entry.id).answer == original
    assert "临平职工体检福利有几个名额" not in svc.get(entry.id).alternates
    assert svc.history(entry.id)[0].action == f"restore#{first.id}"


def test_an_invented_number_is_refused(svc):
    entry = svc.get("linping.health-check.quota")
    with pytest.raises(AdminError, match="30000"):
        svc.save(replace(entry, answer=entry.answer.replace("20000", "30000")), actor=7)
    assert "20000" in svc.get(entry.id).answer


def test_retired_entries_stop_answering(svc, app):
    assert app.knowledge.engine.answer("临平免费体检名额").faq_id == "linping.health-check.quota"
    svc.retire("linping.health-check.quota", actor=7)
    assert app.knowledge.engine.answer("临平免费体检名额").faq_id != "linping.health-check.quota"
    assert svc.search("linping.health-check.quota")[0].active is False


def test_unanswered_questions_are_grouped_and_become_alternates(svc, app):
    for q in ["食堂饭卡怎么充值", "食堂饭卡怎么充值？", "食堂的饭卡怎么充值", "工会活动报名"]:
        app.repos.queries.record(LoggedQuery(q, None, False, "not_found", None, 10.0))
    groups = svc.unanswered()
    assert groups[0].count == 3 and "饭卡" in groups[0].question
    assert not app.knowledge.engine.answer("临平工会那个两万的是啥").matched
    svc.add_alternate("linping.health-check.quota", "临平工会那个两万的是啥", actor=7)
    assert app.knowledge.engine.answer("临平工会那个两万的是啥").faq_id == "linping.health-check.quota"


def test_an_invalid_import_names_each_bad_line_and_writes_nothing(svc, app):
    version = app.repos.knowledge.version()
    yaml_text = """entries:
  - id: linping.new-one
    district: 临平区
    category: 体检
    question: 临平新问题
    alternates: [a, b, c, d]
    keywords: [x]
    answer: 临平区2021年提出五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个
    sources: [{document: "002_b22997240e314b2b", quote: "五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个"}]
  - id: linping.bad-one
    district: 火星区
    category: 体检
    question: 坏条目
    alternates: [a, b, c, d]
    keywords: [x]
    answer: 名额99999个
    sources: [{document: "002_b22997240e314b2b", quote: 免费体检名额20000个}]
"""
    result = svc.import_file("faq.yaml", yaml_text.encode(), actor=7)
    assert not result.ok
    # each problem at the line of the field that is wrong, not where the entry starts (line 10)
    assert any(p.startswith("第 11 行") and "火星区" in p for p in result.problems)
    assert any(p.startswith("第 16 行") and "99999" in p for p in result.problems)
    assert svc.get("linping.new-one") is None and app.repos.knowledge.version() == version
    good = yaml_text.split("  - id: linping.bad-one")[0]
    result = svc.import_file("faq.yaml", good.encode(), actor=7)
    assert result.ok and result.written == 1 and svc.get("linping.new-one") is not None


def test_csv_faq_import_and_bad_files(svc):
    header = "id,district,category,question,alternates,keywords,answer,source_document,source_quote\n"
    row = ('fuyang.csv-one,富阳区,福利活动,富阳月月送有什么,月月送|抢福利|电影票|半价学车,月月送,'
           '富阳工会福利月月送推送电影票等福利。,001_175e57b180e2aeee,开展工会福利“月月送”活动\n')
    assert svc.import_file("faq.csv", (header + row).encode(), actor=7).ok
    assert not svc.import_file("faq.csv", b"id,question\n1,2\n", actor=7).ok
    assert not svc.import_file("faq.yaml", b"entries: [: bad", actor=7).ok
    assert not svc.import_file("faq.exe", b"MZ", actor=7).ok
    assert not svc.import_file("faq.yaml", b"\xff\xfe\x00", actor=7).ok


def test_station_import_through_the_same_entry_point(svc, app):
    text = ("id,name,district,kind,latitude,longitude,address,hours,services\n"
            "s1,测试驿站,临平区,爱心驿站,30.42,120.30,某路1号,9:00-18:00,饮水;充电\n"
            "s2,坏驿站,临平区,爱心驿站,999,120.30,,,\n")
    result = svc.import_file("stations.csv", text.encode(), actor=7)
    assert not result.ok and result.kind == "stations" and any("第 3 行" in p for p in result.problems)
    assert app.repos.stations.get("s1") is None


def test_new_source_document_is_searchable_and_citable(svc, app):
    text = "临平区总工会2025年新开设“职工夜校”，全年计划开课120节，免费向会员开放。".encode()
    doc = svc.add_document("职工夜校开课", "临平", "2025-03-01", "night.txt", text, actor=7)
    assert doc.district == "临平区" and doc.years == "2025"
    answer = app.knowledge.engine.answer("临平职工夜校开课计划多少节")
    assert answer.matched and answer.kind == "passage" and "120" in answer.answer
    with pytest.raises(AdminError):
        svc.add_document("x", "火星区", "2025-03-01", "a.txt", b"text" * 20, actor=7)
    with pytest.raises(AdminError):
        svc.add_document("x", "临平区", "2025-03-01", "a.pdf", b"text" * 20, actor=7)


NEWS = ("临平区总工会启动2026年“骑手关爱月”活动。\n"
        "“骑手关爱月”是临平区总工会在每年11月为外卖骑手、快递小哥开展的集中服务活动，"
        "内容包括免费体检、法律咨询和入会宣传。\n"
        "今年临平区新建骑手暖心驿站15个，驿站提供饮水、充电和休息服务。\n"
        "活动期间新入会的骑手可领取一份暖心礼包。")


@pytest.mark.parametrize("question, quoted", [
    ("骑手关爱月是什么", "“骑手关爱月”是临平区总工会在每年11月"),
    ("你好，我是临平送外卖的，想问下骑手关爱月是干嘛的", "“骑手关爱月”是临平区总工会在每年11月"),
    ("临平新建多少个骑手暖心驿站", "新建骑手暖心驿站15个"),
    ("新入会骑手有礼包吗", "可领取一份暖心礼包"),
])
def test_a_news_document_answers_at_once_over_older_entries(svc, app, question, quoted):
    """Before the document, an older entry answers (wrongly); after it, the new document's sentence does,
    quoted and cited, because the question names what only the new document has."""
    assert app.knowledge.engine.answer(question).kind != "passage"
    svc.add_document("临平启动骑手关爱月", "临平", "2026-11-01", "care.txt", NEWS.encode(), actor=7)
    answer = app.knowledge.engine.answer(question)
    assert answer.kind == "passage" and quoted in answer.answer and "临平启动骑手关爱月" in answer.source_line()
    # what the old entries answer stays theirs
    assert app.knowledge.engine.answer("临平体检名额有多少").faq_id == "linping.health-check.quota"


def test_stats_summarise_questions_and_feedback(svc, app):
    app.repos.queries.record(LoggedQuery("临平免费体检名额", "临平区", True, "faq", "linping.health-check.quota", 90))
    app.repos.queries.record(LoggedQuery("食堂饭卡", None, False, "not_found", None, 20))
    app.repos.feedback.record(1, "linping.health-check.quota", "临平免费体检名额", False)
    st = svc.stats()
    assert st["questions"] == 2 and st["matched"] == 1 and st["unhelpful"] == 1
    text = svc.format_stats(st)
    assert "2 个问题" in text and "食堂饭卡" in text


def test_a_station_is_added_edited_and_retired_with_checks(svc, app):
    from knowledge.model import Station
    station = Station(id=svc.new_station_id("临平区", "测试驿站"), name="测试驿站", district="临平", latitude=30.42,
                      longitude=120.30, address="某路1号", hours="9:00-18:00", services=["饮水", "充电"])
    saved = svc.save_station(station, actor=7, is_new=True)
    assert saved.district == "临平区" and saved.id.startswith("linping-station-")
    assert app.stations.index.nearest(30.42, 120.30, k=1)[0].station.id == saved.id    # the finder sees it at once
    with pytest.raises(AdminError, match="已经存在"):
        svc.save_station(station, actor=7, is_new=True)
    with pytest.raises(AdminError, match="latitude"):
        svc.save_station(replace(saved, latitude=120.30, longitude=30.42), actor=7)
    assert any(not p.fatal for p in svc.check_station(replace(saved, latitude=29.5, longitude=119.2)))  # elsewhere
    svc.save_station(replace(saved, hours="全天"), actor=7)
    assert svc.get_station(saved.id).hours == "全天"
    svc.retire_station(saved.id, actor=7)
    assert saved.id not in {s.id for s in svc.stations()} and svc.get_station(saved.id).active is False
    actions = [r.action for r in app.repos.audit.history("station", saved.id)]
    assert actions == ["retire", "update", "create"]


def test_refusals_are_audited_and_change_nothing_else(svc, app):
    version = app.repos.knowledge.version()
    svc.record_refusal(99, "/admin")
    rows = app.repos.audit.history("admin", "/admin")
    assert [(r.actor, r.action) for r in rows] == [("telegram:99", "refused")]
    assert app.repos.knowledge.version() == version and not svc.is_admin(99)


def test_answered_unanswered_questions_drop_off_the_list(svc, app):
    app.repos.queries.record(LoggedQuery("临平工会那个两万的是啥", "临平区", False, "not_found", None, 50.0))
    assert [g.question for g in svc.unanswered()] == ["临平工会那个两万的是啥"]
    svc.add_alternate("linping.health-check.quota", "临平工会那个两万的是啥", actor=7)
    assert svc.unanswered() == [] and svc.unanswered(hide_answered=False)[0].count == 1


def test_documents_offered_for_a_district_are_its_own_and_general_ones(svc):
    assert {d.district for d in svc.documents("临平区")} <= {"临平区", None}
    assert len(svc.documents()) >= 5 and "体检" in svc.categories()


def test_cli_station_add_edit_retire(app, db_url, monkeypatch, capsys):
    from bot.cli import main
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("ADMIN_IDS", raising=False)
    assert main(["admin", "station-add", "--id", "cli-1", "--name", "命令行驿站", "--district", "临平",
                 "--lat", "30.42", "--lon", "120.30", "--services", "饮水;充电"]) == 0
    assert app.repos.stations.get("cli-1").services == ["饮水", "充电"]
    assert main(["admin", "station-edit", "cli-1", "--hours", "全天"]) == 0
    assert main(["admin", "station-edit", "cli-1", "--lat", "120.3"]) == 1          # refused, nothing written
    assert app.repos.stations.get("cli-1").hours == "全天" and app.repos.stations.get("cli-1").latitude == 30.42
    assert main(["admin", "station-add", "--name", "x"]) == 1
    assert main(["admin", "station-retire", "cli-1"]) == 0
    capsys.readouterr()
    assert main(["admin", "stations", "--all", "--district", "临平区"]) == 0
    assert "cli-1  命令行驿站  临平区  30.42,120.3 [retired]" in capsys.readouterr().out
