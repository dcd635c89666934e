"""The admin tools end to end: the real PTB stack against the local Bot API server.

Each test starts the bot over a private copy of the seeded SQLite database with one admin
(ADMIN_IDS), drives the admin's chat by pushing messages, button presses, locations and files,
and checks both what the bot sent and what the database holds. Waits are wait_for calls, not
sleeps (the one exception polls a second process's time-based knowledge refresh).
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from datetime import date

import pytest
import yaml
from sqlalchemy import select

from bot.admin import AdminService
from bot.config import load_settings
from bot.models import AdminRow, AuditRow, FaqRow, SourceDocumentRow, StationRow
from bot.setup import open_app
from handlers import render
from handlers.admin.common import REFUSAL
from handlers.application import build_application, start_polling, stop

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio, pytest.mark.timeout(60)]

ADMIN = 9001
OTHER_ADMIN = 9002
USER = 4242
QUOTA = "linping.health-check.quota"
LONG_ID = "linping.csv-red-roots-with-a-deliberately-long-identifier"   # too long for a button
LINPING_DOC = "002_b22997240e314b2b"


def settings_for(api, db_url, token=None, **env):
    env = {"ADMIN_IDS": str(ADMIN), "FLOOD_LIMIT_PER_MINUTE": 1000, **env}
    return load_settings(_env_file=None, DATABASE_URL=db_url, TELEGRAM_BOT_TOKEN=token or api.token,
                         TELEGRAM_API_BASE_URL=api.url, **env)


@contextlib.asynccontextmanager
async def running(app):
    application = build_application(app)
    await start_polling(application, poll_timeout=5)
    try:
        yield app, application
    finally:
        await stop(application)


@contextlib.asynccontextmanager
async def running_bot(api, db_url, token=None, **env):
    async with running(open_app(settings_for(api, db_url, token, **env), load_knowledge=False)) as pair:
        yield pair


def buttons(call) -> list[dict]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def body(call) -> str:
    return call.params.get("text") or call.params.get("caption") or ""


class Chat:
    """One person's private chat with the bot under test."""

    def __init__(self, api, user_id: int, token: str | None = None):
        self.api, self.user_id, self.token = api, user_id, token

    async def reply(self, expect: str | None, since: int, timeout: float = 5.0):
        """The first message sent or edited in this chat since `since` whose text contains `expect`."""
        def wanted(c) -> bool:
            return (c.method in ("sendMessage", "editMessageText", "sendDocument", "sendVenue")
                    and c.params.get("chat_id") == self.user_id and (expect is None or expect in body(c)))
        return await self.api.wait_for_async(None, wanted, timeout, since=since, token=self.token, ok=True)

    async def say(self, text: str, expect: str | None = None):
        mark = self.api.mark()
        self.api.push_message(self.user_id, text, token=self.token)
        return await self.reply(expect, mark)

    async def tap(self, call, label: str, expect: str | None = None):
        """Presses the button of `call`'s message whose label contains `label`."""
        found = [b for b in buttons(call) if label in b["text"]]
        assert found, f"no button {label!r} in {[b['text'] for b in buttons(call)]}"
        return await self.press(call, found[0]["callback_data"], expect)

    async def press(self, call, data: str, expect: str | None = None):
        mark = self.api.mark()
        self.api.push_callback_query(self.user_id, data, call, token=self.token)
        return await self.reply(expect, mark)

    async def toast(self, call, data: str) -> str | None:
        """Presses a button and returns the callback answer's text."""
        update = self.api.push_callback_query(self.user_id, data, call, token=self.token)
        answered = await self.api.wait_for_async(
            "answerCallbackQuery", match={"callback_query_id": update["callback_query"]["id"]}, token=self.token)
        return answered.params.get("text")

    async def send_file(self, filename: str, content: bytes, expect: str | None = None):
        mark = self.api.mark()
        self.api.push_document(self.user_id, filename, content, token=self.token)
        return await self.reply(expect, mark)

    async def ask(self, question: str):
        """A member's question: the answer message."""
        return await self.say(question, None)


def snapshot(app) -> dict:
    """Everything an admin action could change (the audit log apart)."""
    with app.db.transaction() as s:
        return {
            "version": app.repos.knowledge.version(),
            "faq": [(r.id, r.question, r.answer, tuple(r.alternates), r.active, r.district, r.category)
                    for r in s.scalars(select(FaqRow).order_by(FaqRow.id))],
            "stations": [(r.id, r.name, r.active) for r in s.scalars(select(StationRow).order_by(StationRow.id))],
            "documents": [r.id for r in s.scalars(select(SourceDocumentRow).order_by(SourceDocumentRow.id))],
            "admins": [r.user_id for r in s.scalars(select(AdminRow).order_by(AdminRow.user_id))],
            "audit": [(r.id, r.action) for r in s.scalars(select(AuditRow).where(AuditRow.action != "refused")
                                                               .order_by(AuditRow.id))],
        }


def refusals(app) -> list[AuditRow]:
    with app.db.transaction() as s:
        return list(s.scalars(select(AuditRow).where(AuditRow.action == "refused").order_by(AuditRow.id)))


# ------------------------------------------------------------------ menu and refusals
async def test_admin_menu_offers_every_tool(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        admin = Chat(bot_api, ADMIN)
        menu = await admin.say("/admin", "管理菜单")
        labels = [b["text"] for b in buttons(menu)]
        for tool in ("搜索/编辑条目", "新增条目", "未答问题", "导入文件", "导出", "驿站", "新增资料文档", "统计",
                     "管理员"):
            assert any(tool in label for label in labels), tool
        assert all(b["callback_data"].startswith("ad:") and len(b["callback_data"].encode()) <= 64
                   for b in buttons(menu))

        stats = await admin.tap(menu, "统计", "📊 最近 30 天")
        assert stats.method == "editMessageText"           # menus navigate in place
        back = await admin.tap(stats, "管理菜单", "管理菜单")
        admins = await admin.tap(back, "管理员", "管理员（1 位）")
        assert f"{ADMIN}（您）" in body(admins) and not any("移除" in b["text"] for b in buttons(admins))
        helped = await admin.tap(await admin.say("/admin", "管理菜单"), "导入文件", "id,district,category")
        assert "question,alternates,keywords,answer,source_document,source_quote" in body(helped)


async def test_non_admins_are_refused_at_every_entry_point_and_nothing_changes(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        AdminService(app).add_admin(ADMIN, OTHER_ADMIN)         # so a forged "remove admin" could succeed
        before = snapshot(app)
        user = Chat(bot_api, USER)
        for command in ("/admin", "/unanswered", "/export", "/stats", "/admins"):
            refused = await user.say(command, REFUSAL)
            assert body(refused) == REFUSAL

        own = await user.say("/start")                      # a message in the member's own chat to press on
        station = app.repos.stations.active()[0].id
        forged = ["ad:m", "ad:m:s", "ad:m:n", "ad:m:u", "ad:m:i", "ad:m:x", "ad:m:st", "ad:m:d", "ad:m:t", "ad:m:a",
                  f"ad:v:{QUOTA}", f"ad:e:n:{QUOTA}", f"ad:e:q:{QUOTA}", f"ad:rt:{QUOTA}", f"ad:ry:{QUOTA}",
                  f"ad:ra:{QUOTA}", f"ad:h:{QUOTA}", "ad:rs:1", "ad:ok", "ad:no", "ad:pd:0", "ad:pc:0", "ad:ps:0",
                  "ad:pf:n", "ad:dt", "ad:ua:0", "ad:un:0", f"ad:ut:{QUOTA}", "ad:sl:0", "ad:sa", f"ad:sv:{station}",
                  f"ad:se:n:{station}", f"ad:sr:{station}", f"ad:sy:{station}", "ad:aa", f"ad:ar:{OTHER_ADMIN}",
                  f"ad:ay:{OTHER_ADMIN}", f"ad:ay:{ADMIN}"]
        for data in forged:
            assert await user.toast(own, data) == REFUSAL, data

        entry_yaml = yaml.safe_dump({"entries": [{**app.repos.knowledge.get_entry(QUOTA).content(),
                                                  "answer": "名额20000个"}]}, allow_unicode=True).encode()
        notes = "临平区总工会新开设职工夜校，全年开课。".encode() * 3
        for name, content in (("faq.yaml", entry_yaml), ("notes.txt", notes), ("stations.csv", b"id,name\n")):
            # a member's file is like any file a member sends: not an admin action to refuse and audit
            reply = await user.send_file(name, content)
            assert body(reply) == render.non_text_reply("document")

        answered = await user.ask("临平免费体检名额")        # and the member is not stuck in any admin step
        assert "来源：" in body(answered)
        assert snapshot(app) == before
        assert not bot_api.calls_of("sendDocument") and not bot_api.calls_of("getFile")
        rows = refusals(app)
        assert len(rows) == 5 + len(forged) and {r.actor for r in rows} == {f"telegram:{USER}"}
        assert {r.target_id for r in rows} >= {"/admin", f"button ad:ay:{OTHER_ADMIN}"}


# ------------------------------------------------------------------ entries
async def test_add_an_entry_through_the_conversation_then_members_get_it(bot_api, seeded_db_url):
    question = "临平鸭兰村建党旧址在哪"
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        assert app.knowledge.engine.answer(question).kind != "faq"
        admin, user = Chat(bot_api, ADMIN), Chat(bot_api, USER)
        menu = await admin.say("/admin", "管理菜单")
        await admin.tap(menu, "新增条目", "请发送问题")
        await admin.say("临平区的红色根脉教育地点有哪些？", "请发送其他问法")
        await admin.say("鸭兰村建党旧址在哪里\n何思敬故居在哪\n临平红色根脉教育基地\n临平有什么红色教育的地方",
                        "请发送回答全文")
        districts = await admin.say("临平区总工会提出以鸭兰村建党旧址、何思敬故居等3处为重点。", "请选择区县")
        categories = await admin.tap(districts, "临平区", "请选择分类")
        sources = await admin.tap(categories, "劳模工匠", "请选择引文所在的来源文档")
        assert all("临平" in b["text"] or "通用" in b["text"] for b in buttons(sources) if b["text"] != "✖️ 取消")
        await admin.tap(sources, "启航新征程", "逐字复制")
        preview = await admin.say("以鸭兰村建党旧址、何思敬故居等为重点", "预览：新增条目")
        assert "数字3不在引文中" in body(preview)
        assert not any("确认保存" in b["text"] for b in buttons(preview))      # an invented number cannot be saved

        await admin.tap(preview, "改回答", "请发送回答全文")
        preview = await admin.say("临平区总工会2021年提出以鸭兰村建党旧址、何思敬故居等为重点，"
                                  "汲取奋进力量。参观安排文中没有写明，请咨询临平区总工会或拨打12351职工服务热线。",
                                  "预览：新增条目")
        assert "检查通过" in body(preview) and "区县：临平区" in body(preview)
        saved = await admin.tap(preview, "确认保存", "已保存")
        new_id = body(saved).split("条目 ", 1)[1].split("（", 1)[0]
        assert new_id.startswith("linping.admin-")
        assert app.repos.knowledge.get_entry(new_id).category == "劳模工匠"
        assert [r.action for r in app.repos.audit.history("faq", new_id)] == ["create"]

        answer = await user.ask(question)
        assert "汲取奋进力量" in body(answer) and "来源：《启航新征程" in body(answer)


async def test_edit_an_answer_from_search_then_members_get_the_new_one(bot_api, seeded_db_url):
    new_answer = ("临平区总工会2021年提出五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个（管理员已更新）。"
                  "报名办法请咨询临平区总工会或拨打12351职工服务热线。")
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        admin, user = Chat(bot_api, ADMIN), Chat(bot_api, USER)
        menu = await admin.say("/admin", "管理菜单")
        await admin.tap(menu, "搜索/编辑条目", "请发送关键词")
        results = await admin.say("临平免费体检名额", "找到")
        view = await admin.press(results, f"ad:v:{QUOTA}", f"条目 {QUOTA}")
        for label in ("编辑问题", "编辑问法", "编辑回答", "区县", "分类", "来源", "停用", "历史"):
            assert any(label in b["text"] for b in buttons(view)), label
        await admin.tap(view, "编辑回答", "请发送回答全文")
        preview = await admin.say(new_answer, "预览：修改条目")
        assert "（回答）" in body(preview) and "检查通过" in body(preview)
        assert app.repos.knowledge.get_entry(QUOTA).answer != new_answer         # nothing saved before confirming
        await admin.tap(preview, "确认保存", "已保存")
        assert app.repos.knowledge.get_entry(QUOTA).answer == new_answer
        answer = await user.ask("临平免费体检名额")
        assert "管理员已更新" in body(answer)

        history = await admin.press(view, f"ad:h:{QUOTA}", "修改记录")
        assert f"telegram:{ADMIN}" in body(history) and "修改（当前）" in body(history)

        # a new source whose quote lacks the answer's numbers is caught in the preview; 取消 keeps the entry
        before = snapshot(app)
        docs = await admin.tap(view, "来源", "请选择引文所在的来源文档")
        assert not any("拱墅" in b["text"] for b in buttons(docs))       # a 临平区 entry cites 临平 or general ones
        await admin.tap(docs, "启航新征程", "逐字复制")
        preview = await admin.say("以鸭兰村建党旧址、何思敬故居等为重点", "预览：修改条目")
        assert "数字20000个不在引文中" in body(preview) and "（来源）" in body(preview)
        categories = await admin.tap(preview, "改分类", "请选择分类")
        preview = await admin.tap(categories, "疗休养", "预览：修改条目")
        assert "（来源、分类）" in body(preview) and "分类：疗休养" in body(preview)
        await admin.tap(preview, "取消", "已取消")
        assert snapshot(app) == before


async def test_retire_asks_first_and_then_the_entry_stops_answering(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        admin, user = Chat(bot_api, ADMIN), Chat(bot_api, USER)
        menu = await admin.say("/admin", "管理菜单")
        view = await admin.press(menu, f"ad:v:{QUOTA}", f"条目 {QUOTA}")
        ask = await admin.tap(view, "停用", "确定停用")
        assert app.repos.knowledge.get_entry(QUOTA).active
        await admin.tap(ask, "确认停用", "已停用")
        assert not app.repos.knowledge.get_entry(QUOTA).active
        assert app.knowledge.engine.answer("临平免费体检名额").faq_id != QUOTA
        retired_answer = app.repos.knowledge.get_entry(QUOTA).answer.strip()
        answer = await user.ask("临平免费体检名额")
        assert retired_answer not in body(answer)


async def test_cancel_and_odd_messages_mid_conversation(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        before = snapshot(app)
        admin = Chat(bot_api, ADMIN)
        menu = await admin.say("/admin", "管理菜单")
        await admin.tap(menu, "新增条目", "请发送问题")
        mark = bot_api.mark()
        bot_api.push_sticker(ADMIN)
        odd = await admin.reply("这一步没法用这条消息", mark)
        assert "请发送问题" in body(odd)
        await admin.say("临平区的红色根脉教育地点有哪些？", "请发送其他问法")
        await admin.say("/cancel", "已取消")
        assert snapshot(app) == before
        answer = await admin.ask("临平免费体检名额")        # text is a question again, not an answer to a step
        assert "来源：" in body(answer)
        nothing = await admin.say("/cancel", "当前没有进行中的操作")
        assert nothing

        # a button from the finished conversation is stale, not a second save
        preview_menu = await admin.say("/admin", "管理菜单")
        assert await admin.toast(preview_menu, "ad:ok") == "当前没有进行中的操作。"
        assert await admin.toast(preview_menu, "ad:pd:1") and snapshot(app) == before


async def test_an_idle_conversation_times_out_cleanly(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url, ADMIN_CONVERSATION_TIMEOUT=0.5) as (app, _):
        before = snapshot(app)
        admin = Chat(bot_api, ADMIN)
        menu = await admin.say("/admin", "管理菜单")
        started = await admin.tap(menu, "新增条目", "请发送问题")
        timed_out = await admin.reply("已超时", started.index, timeout=10)
        assert "没有保存任何修改" in body(timed_out)
        answer = await admin.ask("临平免费体检名额")
        assert "来源：" in body(answer) and snapshot(app) == before


# ------------------------------------------------------------------ history and undo
async def test_a_revision_is_restored_from_the_history(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        svc = AdminService(app)
        original = svc.get(QUOTA)
        changed = "临平区2021年提出五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个（临时改动）。"
        svc.save(replace(original, answer=changed), actor=ADMIN)
        admin, user = Chat(bot_api, ADMIN), Chat(bot_api, USER)
        assert "临时改动" in body(await user.ask("临平免费体检名额"))

        menu = await admin.say("/admin", "管理菜单")
        history = await admin.press(menu, f"ad:h:{QUOTA}", "修改记录")
        restore = [b for b in buttons(history) if "恢复此版本" in b["text"]]
        assert len(restore) == 1                              # every revision but the current one
        restored = await admin.tap(history, "恢复此版本", "已恢复到版本")
        assert svc.get(QUOTA).answer == original.answer and "临时改动" not in body(restored)
        assert svc.history(QUOTA)[0].action.startswith("restore#")
        answer = await user.ask("临平免费体检名额")
        assert "临时改动" not in body(answer) and "20000" in body(answer)


# ------------------------------------------------------------------ unanswered questions
async def test_an_unanswered_question_becomes_an_alternate_that_then_matches(bot_api, seeded_db_url):
    asked = "临平工会那个两万的是啥"
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        assert not app.knowledge.engine.answer(asked).matched
        admin, user = Chat(bot_api, ADMIN), Chat(bot_api, USER)
        await user.ask(asked)
        await user.ask(asked)
        await user.ask("工会能帮我修自行车吗")
        listing = await admin.say("/unanswered", "答不上")
        assert body(listing).index(asked) < body(listing).index("修自行车") and "（2 次" in body(listing)

        pick = await admin.tap(listing, "1. 加为已有条目的问法", "加为哪个条目的问法")
        if not any(b["callback_data"] == f"ad:ut:{QUOTA}" for b in buttons(pick)):
            pick = await admin.say("临平免费体检", "点选要加问法的条目")
        done = await admin.press(pick, f"ad:ut:{QUOTA}", "已把")
        assert asked in app.repos.knowledge.get_entry(QUOTA).alternates and QUOTA in body(done)
        answer = await user.ask(asked)
        assert "20000" in body(answer) and "来源：" in body(answer)

        listing = await admin.say("/unanswered", "答不上")
        assert asked not in body(listing)                     # answered now, so off the list
        started = await admin.tap(listing, "1. 用它新建条目", "用这个问题新建条目")
        assert "修自行车" in body(started)
        await admin.reply("请发送其他问法", started.index)
        await admin.say("/cancel", "已取消")


# ------------------------------------------------------------------ files
async def test_an_invalid_import_changes_nothing_and_a_valid_one_is_answered(bot_api, seeded_db_url):
    header = "id,district,category,question,alternates,keywords,answer,source_document,source_quote\n"
    good = (f"{LONG_ID},临平区,劳模工匠,临平红色根脉有哪些地方,鸭兰村建党旧址|何思敬故居在哪|"
            "临平红色教育基地|临平红色根脉,红色根脉,临平区总工会提出以鸭兰村建党旧址、何思敬故居等为重点挖掘红色根脉。,"
            f"{LINPING_DOC},以鸭兰村建党旧址、何思敬故居等为重点\n")
    bad = ("linping.csv-bad,火星区,劳模工匠,坏条目,a|b|c|d,x,名额99999个,"
           f"{LINPING_DOC},以鸭兰村建党旧址、何思敬故居等为重点\n")
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        before = snapshot(app)
        admin, user = Chat(bot_api, ADMIN), Chat(bot_api, USER)
        report = await admin.send_file("faq.csv", (header + good + bad).encode(), "没有写入任何数据")
        assert "第 3 行" in body(report) and "火星区" in body(report) and "99999" in body(report)
        assert snapshot(app) == before

        broken = await admin.send_file("faq.yaml", b"entries: [: bad", "没有写入任何数据")
        assert body(broken) and snapshot(app) == before
        huge = await admin.send_file("faq.csv", header.encode() + b"x" * (2 * 1024 * 1024 + 10), "文件太大")
        assert huge and snapshot(app) == before
        other = await admin.send_file("scan.pdf", b"%PDF-1.4", "不支持这种文件")
        assert other

        done = await admin.send_file("faq.csv", (header + good).encode(), "导入成功")
        assert "共 1 条问答条目" in body(done)
        assert app.repos.knowledge.get_entry(LONG_ID) is not None
        answer = await user.ask("临平红色根脉有哪些地方")
        assert "挖掘红色根脉" in body(answer)

        # its id is too long for a button, so buttons carry a hash of it, and still open it
        menu = await admin.say("/admin", "管理菜单")
        await admin.tap(menu, "搜索/编辑条目", "请发送关键词")
        found = await admin.say(LONG_ID, "找到 1 个条目")
        assert buttons(found)[0]["callback_data"].startswith("ad:v:#")
        view = await admin.tap(found, "临平红色根脉", "条目 linping.csv-red-roots-with")
        history = await admin.tap(view, "历史", "修改记录")
        assert "导入（当前）" in body(history)


async def test_export_sends_the_knowledge_base_as_yaml(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        admin = Chat(bot_api, ADMIN)
        sent = await admin.say("/export", "当前知识库")
        assert sent.method == "sendDocument"
        upload = sent.files["document"]
        assert upload.filename.endswith(".yaml")
        data = yaml.safe_load(upload.data.decode("utf-8"))
        assert len(data["entries"]) == app.repos.knowledge.count_entries()
        assert QUOTA in {e["id"] for e in data["entries"]}
        # the export is a valid import (unchanged: nothing written)
        again = await admin.send_file(upload.filename, upload.data, "导入成功")
        assert "0 条有变化" in body(again)


async def test_a_txt_document_becomes_a_source_for_passage_answers(bot_api, seeded_db_url):
    text_ = ("临平区总工会2025年新开设“职工夜校”，全年计划开课120节，免费向会员开放。\n"
             "“骑手关爱月”是临平区总工会在每年11月为外卖骑手、快递小哥开展的集中服务活动。")
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        admin, user = Chat(bot_api, ADMIN), Chat(bot_api, USER)
        bad = await admin.send_file("broken.txt", b"\x80\xff\x00\x01" * 10, "UTF-8")     # no text encoding
        assert "换一个文件" in body(bad)
        await admin.say("/cancel", "已取消")

        await admin.send_file("night.txt", text_.encode(), "请发送文档标题")
        districts = await admin.say("职工夜校开课", "属于哪个区县")
        await admin.tap(districts, "临平区", "发布日期")
        await admin.say("2025年3月32日", "日期格式应为")
        preview = await admin.say("2025.3.1", "预览：新增资料文档")
        assert "日期：2025-03-01" in body(preview) and "区县：临平区" in body(preview)
        await admin.tap(preview, "确认保存", "已添加资料《职工夜校开课》")
        assert any(d.title == "职工夜校开课" for d in app.repos.knowledge.documents())
        answer = await user.ask("临平职工夜校开课计划多少节")
        assert "120" in body(answer) and "摘录" in body(answer)
        answer = await user.ask("骑手关爱月是什么")
        assert "每年11月为外卖骑手" in body(answer) and "职工夜校开课" in body(answer)


# ------------------------------------------------------------------ stations
async def test_a_station_is_added_from_a_location_and_found_then_retired(bot_api, seeded_db_url):
    lat, lon = 30.4500, 120.3800
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        admin, user = Chat(bot_api, ADMIN), Chat(bot_api, USER)
        menu = await admin.say("/admin", "管理菜单")
        stations = await admin.tap(menu, "驿站", "驿站管理")
        await admin.tap(stations, "新增驿站", "请发送驿站的位置")
        mark = bot_api.mark()
        bot_api.push_location(ADMIN, lat, lon)
        await admin.reply("请发送驿站名称", mark)
        await admin.say("临平测试爱心驿站", "详细地址")
        await admin.say("临平区某某路1号", "开放时间")
        await admin.say("8:00-20:00", "提供的服务")
        districts = await admin.say("休息、饮水，手机充电", "请选择驿站所在的区县")
        assert "像是临平区" in body(districts)
        preview = await admin.tap(districts, "临平区", "预览：新增驿站")
        assert "服务：休息、饮水、手机充电" in body(preview)
        saved = await admin.tap(preview, "确认保存", "已保存驿站")
        station = next(s for s in app.repos.stations.active() if s.name == "临平测试爱心驿站")
        assert (station.district, station.hours, station.is_example) == ("临平区", "8:00-20:00", False)

        mark = bot_api.mark()
        bot_api.push_location(USER, lat + 0.0001, lon + 0.0001)
        venue = await user.reply(None, mark)
        assert venue.method == "sendVenue" and venue.params["title"] == "临平测试爱心驿站"

        renamed = await admin.tap(saved, "改名称", "请发送驿站名称")
        assert renamed
        preview = await admin.say("临平测试爱心驿站（新）", "预览：修改驿站")
        await admin.tap(preview, "确认保存", "已保存驿站")
        assert app.repos.stations.get(station.id).name == "临平测试爱心驿站（新）"

        view = await admin.press(menu, f"ad:sv:{station.id}", "临平测试爱心驿站（新）")
        ask = await admin.tap(view, "停用", "确定停用")
        await admin.tap(ask, "确认停用", "已停用驿站")
        mark = bot_api.mark()
        bot_api.push_location(USER, lat, lon)
        venue = await user.reply(None, mark)
        assert venue.method != "sendVenue" or "临平测试爱心驿站" not in venue.params["title"]


# ------------------------------------------------------------------ stats and admins
async def test_stats_summarise_what_members_asked(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        admin, user = Chat(bot_api, ADMIN), Chat(bot_api, USER)
        await user.ask("临平免费体检名额")
        await user.ask("工会能帮我修自行车吗")
        stats = await admin.say("/stats", "📊 最近 30 天")
        assert "2 个问题" in body(stats) and "修自行车" in body(stats)


async def test_admins_are_added_by_id_and_removed_but_never_the_last(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        admin = Chat(bot_api, ADMIN)
        listing = await admin.say("/admins", "管理员（1 位）")
        await admin.tap(listing, "添加管理员", "数字 ID")
        await admin.say("not a number", "应为一串数字")
        confirm = await admin.say(str(OTHER_ADMIN), f"确认把 {OTHER_ADMIN} 设为管理员")
        assert app.repos.admins.list() == [ADMIN]
        await admin.tap(confirm, "确认保存", "已把")
        assert set(app.repos.admins.list()) == {ADMIN, OTHER_ADMIN}

        other = Chat(bot_api, OTHER_ADMIN)
        assert await other.say("/admin", "管理菜单")           # the new admin is let in at once
        listing = await admin.say("/admins", "管理员（2 位）")
        ask = await admin.tap(listing, f"移除 {OTHER_ADMIN}", "确定移除")
        await admin.tap(ask, "确认移除", "已移除")
        assert app.repos.admins.list() == [ADMIN]
        refused = await other.say("/admin", REFUSAL)           # and shut out at once
        assert refused
        menu = await admin.say("/admin", "管理菜单")
        kept = await admin.press(menu, f"ad:ay:{ADMIN}", "最后一位管理员")
        assert kept and app.repos.admins.list() == [ADMIN]


# ------------------------------------------------------------------ every step checks its reply
async def test_each_guided_step_refuses_what_it_cannot_use_and_stays(bot_api, seeded_db_url):
    """The checks of the guided steps, one flow after another; nothing is saved."""
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        before = snapshot(app)
        admin = Chat(bot_api, ADMIN)
        menu = await admin.say("/admin", "管理菜单")

        # an entry: a question too long, a district typed as text, a category button that does not exist
        await admin.tap(menu, "新增条目", "请发送问题")
        await admin.say("问" * 201, "问题应为 1–200 个字")
        await admin.say("临平区的红色根脉教育地点有哪些？", "请发送其他问法")
        await admin.say("鸭兰村建党旧址在哪里\n何思敬故居在哪", "请发送回答全文")
        await admin.say("答" * 3001, "回答应为 1–3000 个字")
        await admin.say("临平区总工会提出以鸭兰村建党旧址等为重点。", "请选择区县")
        await admin.say("南京", "请点上面的按钮选择区县")
        categories = await admin.say("通用", "请选择分类（现在：未选）")
        assert await admin.toast(categories, "ad:pc:999") == "请重新选择"
        assert await admin.toast(categories, "ad:pd:1") == "这个按钮已失效，请发送 /admin 重新开始。"  # not this step
        sources = await admin.tap(categories, "劳模工匠", "请选择引文所在的来源文档")
        assert await admin.toast(sources, "ad:ps:999") == "请重新选择"
        await admin.say("/cancel", "已取消")

        # a document: the district as text, the date from the 今天 button
        await admin.send_file("night.txt", "临平区总工会2025年新开设职工夜校，全年计划开课120节。".encode(),
                              "请发送文档标题")
        await admin.say("职工夜校", "属于哪个区县")
        await admin.say("南京", "请点上面的按钮选择区县")
        dates = await admin.say("不限", "发布日期")
        preview = await admin.tap(dates, "今天", "预览：新增资料文档")
        assert f"日期：{date.today().isoformat()}" in body(preview) and "区县：不限区县（通用）" in body(preview)
        title = await admin.tap(preview, "改标题", "请发送文档标题")
        preview = await admin.say("职工夜校开课", "预览：新增资料文档")
        assert "标题：职工夜校开课" in body(preview) and title
        await admin.say("/cancel", "已取消")

        # a station: a name too long, 无 for the optional fields, a district it must have
        stations = await admin.tap(menu, "驿站", "驿站管理")
        await admin.tap(stations, "新增驿站", "请发送驿站的位置")
        await admin.say("在临平", "这一步没法用这条消息")
        mark = bot_api.mark()
        bot_api.push_location(ADMIN, 30.45, 120.38)
        await admin.reply("请发送驿站名称", mark)
        await admin.say("站" * 201, "太长了（最多 200 个字）")
        await admin.say("临平测试驿站", "详细地址")
        await admin.say("无", "开放时间")
        await admin.say("无", "提供的服务")
        districts = await admin.say("无", "请选择驿站所在的区县")
        assert await admin.toast(districts, "ad:pd:x") == "请选择一个区县"
        preview = await admin.tap(districts, "临平区", "预览：新增驿站")
        assert "临平测试驿站" in body(preview)
        await admin.tap(preview, "取消", "已取消")

        # an admin: the id must be a number
        listing = await admin.say("/admins", "管理员（1 位）")
        await admin.tap(listing, "添加管理员", "数字 ID")
        await admin.say("12 34 x", "应为一串数字")
        confirm = await admin.say("12 34", "确认把 1234 设为管理员")
        await admin.tap(confirm, "取消", "已取消")
        assert snapshot(app) == before


# ------------------------------------------------------------------ two processes, one PostgreSQL database
@pytest.mark.postgres
@pytest.mark.timeout(120)
async def test_an_edit_in_one_bot_is_answered_by_another_sharing_postgres(bot_api, pg_url):
    token_b = "765432:SECOND-bot_token"
    bot_api.add_bot(token_b)
    new_answer = ("临平区总工会2021年提出五年提供优秀职工免费疗休养名额8000个、免费体检名额20000个"
                  "（双进程共享的修改）。详情请拨打12351职工服务热线。")
    app_a = open_app(settings_for(bot_api, pg_url, KB_REFRESH_SECONDS=0.5))            # migrates and imports
    app_b = open_app(settings_for(bot_api, pg_url, token_b, KB_REFRESH_SECONDS=0.5), load_knowledge=False)
    async with running(app_a), running(app_b):
        admin, user_b = Chat(bot_api, ADMIN), Chat(bot_api, USER, token_b)
        assert "双进程" not in body(await user_b.ask("临平免费体检名额"))

        menu = await admin.say("/admin", "管理菜单")          # bot A
        await admin.press(menu, f"ad:e:n:{QUOTA}", "请发送回答全文")
        preview = await admin.say(new_answer, "预览：修改条目")
        await admin.tap(preview, "确认保存", "已保存")
        saved_at = time.monotonic()

        while True:                                          # bot B re-indexes when it notices the new version
            answer = await user_b.ask("临平免费体检名额")
            if "双进程共享的修改" in body(answer):
                break
            assert time.monotonic() - saved_at < 5, "bot B did not pick up the edit within 5 s"
            await asyncio.sleep(0.1)
        assert app_b.knowledge.engine.version == app_a.knowledge.engine.version
