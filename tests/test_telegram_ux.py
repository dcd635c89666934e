"""What workers, groups and admins tripped over (issue 11), each through the local Bot API server.

Same set-up as test_telegram_admin: the real PTB stack over a private copy of the seeded database,
one admin (ADMIN_IDS), updates pushed into the fake server and the bot's calls awaited.
"""
from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from sqlalchemy import delete, select

from bot.models import BotPersistenceRow, FaqRow, FeedbackRow
from bot.setup import open_app
from handlers import callbacks as cb
from handlers import render
from handlers.admin.menu import IN_GROUP
from handlers.persistence import LOST
from tests.test_telegram_admin import ADMIN, USER, Chat, body, buttons, running, running_bot, settings_for

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio, pytest.mark.timeout(60)]

OTHER = 4343
GROUP = -100888


def votes(app) -> list[FeedbackRow]:
    with app.db.transaction() as s:
        return list(s.scalars(select(FeedbackRow).order_by(FeedbackRow.id)))


def feedback_buttons(call) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for b in buttons(call) if b["callback_data"].startswith("f:")}


# ------------------------------------------------------------------ workers: 👎 and /unanswered
async def test_a_thumbs_down_is_one_changeable_vote_and_shows_in_unanswered_with_the_question(bot_api, seeded_db_url):
    question = "临平免费体检名额有多少"
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        user, admin = Chat(bot_api, USER), Chat(bot_api, ADMIN)
        reply = await user.ask(question)
        down, up = feedback_buttons(reply)["👎 没帮助"], feedback_buttons(reply)["👍 有帮助"]
        assert await user.toast(reply, down) == "谢谢反馈，我们会改进。也可拨打12351咨询。"
        ticked = await bot_api.wait_for_async("editMessageReplyMarkup", match={"chat_id": USER})
        assert "✅ 👎 没帮助" in feedback_buttons(ticked)
        assert "已经评价过了" in await user.toast(reply, down)              # the same tap again: no second vote
        assert await user.toast(reply, up) == "已改为：👍 有帮助"
        assert [(v.helpful, v.question, v.user_id) for v in votes(app)] == [(True, question, USER)]
        assert await user.toast(reply, down) == "已改为：👎 没帮助"
        assert [(v.helpful, v.question) for v in votes(app)] == [(False, question)]

        listed = await admin.say("/unanswered", "被点 👎")
        assert f"1. {question}（1 次，👎 1）" in body(listed)


async def test_in_a_group_each_member_votes_once_and_a_restarted_bot_still_knows_the_question(bot_api,
                                                                                              seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        mark = bot_api.mark()
        bot_api.push_group_message(USER, "临平免费体检名额", chat_id=GROUP, mention_bot=True)
        answer = await bot_api.wait_for_async("sendMessage", match={"chat_id": GROUP}, since=mark)
    async with running_bot(bot_api, seeded_db_url) as (app, _):          # the bot restarted since it answered
        down = feedback_buttons(answer)["👎 没帮助"]
        for user in (USER, OTHER, USER):
            update = bot_api.push_callback_query(user, down, answer, chat_id=GROUP)
            await bot_api.wait_for_async("answerCallbackQuery",
                                         match={"callback_query_id": update["callback_query"]["id"]})
        assert [(v.user_id, v.helpful, v.question) for v in votes(app)] == \
            [(USER, False, "临平免费体检名额"), (OTHER, False, "临平免费体检名额")]
        assert not bot_api.calls_of("editMessageReplyMarkup")         # everyone may still vote on it


# ------------------------------------------------------------------ workers: /about, /help, hints, related
async def test_about_and_help_read_cleanly_and_name_the_bot(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        user = Chat(bot_api, USER)
        about = body(await user.say("/about", "资料来源"))
        assert "不一定" not in about and about.count("12351") == 1
        helped = body(await user.say("/help", "怎么用"))
        assert f"@{bot_api.bot_username}" in helped and "@机器人用户名" not in helped


async def test_the_choose_a_district_hint_is_left_out_where_it_means_nothing(bot_api, seeded_db_url):
    hint = "发送 /district 选择您所在的区"
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        engine = app.knowledge.engine
        overview = next(e for e in engine.entries if e.district is None and hint in e.answer)
        user, newcomer = Chat(bot_api, USER), Chat(bot_api, OTHER)
        chosen = await user.say("/district 临平", "已设置区县")
        opened = await user.press(chosen, cb.entry_data(overview.id), "来源")
        assert hint not in body(opened) and "12351" in body(opened)
        hello = await newcomer.say("/help", "怎么用")                     # no district chosen: the hint stays
        assert hint in body(await newcomer.press(hello, cb.entry_data(overview.id), "来源"))

        bot_api.push_inline_query(USER, "")                               # shared into any chat: never
        shared = await bot_api.wait_for_async("answerInlineQuery")
        texts = [r["input_message_content"]["message_text"] for r in shared.params["results"]]
        assert texts and not any("/district" in t for t in texts)


async def test_related_buttons_stay_in_the_answers_topic_and_district(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        engine = app.knowledge.engine
        for n, question in enumerate(("医疗互助怎么参加", "免费体检名额", "疗休养")):
            user = Chat(bot_api, USER + n)           # a fresh conversation each: no follow-up reading
            await user.say("/district 临平", "已设置区县")
            reply = await user.ask(question)
            answer = engine.answer(question, "临平区")
            if answer.kind != "faq":
                continue
            entry = engine.by_id[answer.faq_id]
            offered = [engine.by_id[b["callback_data"][2:]] for b in buttons(reply) if b["callback_data"][:2] == "q:"]
            assert all(e.category == entry.category and e.district in (None, "临平区") for e in offered), question


# ------------------------------------------------------------------ workers: inline, flood, files
async def test_an_inline_query_nothing_answers_still_gets_one_result_and_a_way_to_ask(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        bot_api.push_inline_query(USER, "火星探测器发射窗口")
        call = await bot_api.wait_for_async("answerInlineQuery")
        results = call.params["results"]
        assert len(results) == 1 and "没有找到" in results[0]["title"]
        assert "12351" in results[0]["input_message_content"]["message_text"]
        assert call.params["button"] == {"text": "私聊我提问", "start_parameter": "inline"}


async def test_admins_are_not_held_to_the_workers_flood_limit(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url, FLOOD_LIMIT_PER_MINUTE=3) as (app, _):
        admin = Chat(bot_api, ADMIN)
        menu = await admin.say("/admin", "管理菜单")
        await admin.tap(menu, "新增条目", "请发送问题")
        await admin.say("临平区的红色根脉教育地点有哪些？", "请发送其他问法")
        await admin.say("鸭兰村建党旧址在哪里\n何思敬故居在哪\n临平红色根脉教育基地\n临平有什么红色教育的地方",
                        "请发送回答全文")
        await admin.say("/cancel", "已取消")
        assert not [c for c in bot_api.calls_of("sendMessage")
                    if c.params["chat_id"] == ADMIN and c.params["text"].startswith(render.FLOOD_TEXT)]


async def test_a_members_docx_or_csv_is_treated_like_any_file_and_a_caption_is_answered(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        user = Chat(bot_api, USER)
        for name in ("简历.docx", "名单.csv", "说明.txt"):
            reply = await user.send_file(name, b"whatever")
            assert body(reply) == render.non_text_reply("document")
        mark = bot_api.mark()
        bot_api.push_document(USER, "通知.docx", b"PK..", caption="临平免费体检名额")
        asked = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER}, since=mark)
        assert asked.params["text"].startswith(render.caption_note("document")) and "来源：《" in asked.params["text"]
        with app.db.transaction() as s:
            from bot.models import AuditRow
            assert not list(s.scalars(select(AuditRow).where(AuditRow.action == "refused")))


# ------------------------------------------------------------------ groups
async def test_stations_in_a_group_explain_how_to_share_a_location_and_a_reply_with_one_works(bot_api,
                                                                                               seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        mark = bot_api.mark()
        bot_api.push_group_message(USER, "/stations", chat_id=GROUP)
        listing = await bot_api.wait_for_async("sendMessage", match={"chat_id": GROUP}, since=mark)
        assert render.GROUP_LOCATION_HINT in listing.params["text"] and render.NEARBY_BUTTON not in str(
            listing.params.get("reply_markup", {}).get("keyboard", ""))
        assert len([c for c in bot_api.calls_of("sendMessage") if c.index >= mark]) == 1
        bot_api.push_location(USER, 30.2790, 120.1615, chat_id=GROUP, chat_type="supergroup",
                              reply_to_message=listing)
        venue = await bot_api.wait_for_async("sendVenue", match={"chat_id": GROUP}, since=mark)
        assert "示例" in venue.params["title"]


async def test_admin_commands_in_a_group_point_admins_to_the_private_chat(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        mark = bot_api.mark()
        bot_api.push_group_message(USER, "/admin", chat_id=GROUP)         # a member: ignored, as before
        bot_api.push_group_message(ADMIN, "/stats", chat_id=GROUP)
        told = await bot_api.wait_for_async("sendMessage", match={"chat_id": GROUP}, since=mark)
        assert told.params["text"] == IN_GROUP
        bot_api.push_group_message(ADMIN, f"/admin@{bot_api.bot_username}", chat_id=GROUP)
        await bot_api.wait_for_count_async("sendMessage", 2, match={"chat_id": GROUP}, since=mark)
        sent = [c for c in bot_api.calls_of("sendMessage") if c.index >= mark and c.params["chat_id"] == GROUP]
        assert [c.params["text"] for c in sent] == [IN_GROUP, IN_GROUP]


# ------------------------------------------------------------------ admins: a draft across a restart
def stored_drafts(app) -> list[BotPersistenceRow]:
    with app.db.transaction() as s:
        return list(s.scalars(select(BotPersistenceRow).order_by(BotPersistenceRow.kind)))


async def wait_until(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def bot_over(api, db_url, **env):
    async with running(open_app(settings_for(api, db_url, **env), load_knowledge=False)) as pair:
        yield pair


async def test_a_guided_edit_goes_on_after_a_restart(bot_api, seeded_db_url):
    async with bot_over(bot_api, seeded_db_url) as (app, _):
        admin = Chat(bot_api, ADMIN)
        menu = await admin.say("/admin", "管理菜单")
        await admin.tap(menu, "新增条目", "请发送问题")
        await admin.say("临平区的红色根脉教育地点有哪些？", "请发送其他问法")
        # written right after the step, not only at shutdown: a crash now would lose nothing
        await wait_until(lambda: any("红色根脉" in str(r.data) for r in stored_drafts(app)))
        assert {r.kind for r in stored_drafts(app)} == {"user_data", "conversation:admin"}
    async with bot_over(bot_api, seeded_db_url) as (app, _):
        admin = Chat(bot_api, ADMIN)
        await admin.say("鸭兰村建党旧址在哪里\n何思敬故居在哪\n临平红色根脉教育基地\n临平有什么红色教育的地方",
                        "请发送回答全文")
        await admin.say("临平区总工会提出以鸭兰村建党旧址、何思敬故居等为重点挖掘红色根脉。", "请选择区县")
        await admin.say("/cancel", "已取消")
        await wait_until(lambda: not stored_drafts(app))             # nothing left over once it ended
        worker = await admin.ask("临平免费体检名额")
        assert "来源：" in body(worker)


async def test_a_draft_that_timed_out_or_was_lost_during_a_restart_is_reported_not_answered(bot_api, seeded_db_url):
    async with bot_over(bot_api, seeded_db_url, ADMIN_CONVERSATION_TIMEOUT=600) as (app, _):
        admin = Chat(bot_api, ADMIN)
        menu = await admin.say("/admin", "管理菜单")
        await admin.tap(menu, "新增条目", "请发送问题")
        await wait_until(lambda: len(stored_drafts(app)) == 2)
    await asyncio.sleep(0.3)
    async with bot_over(bot_api, seeded_db_url, ADMIN_CONVERSATION_TIMEOUT=0.2) as (app, _):   # 0.2 s: it expired
        admin = Chat(bot_api, ADMIN)
        told = await admin.say("临平区的红色根脉教育地点有哪些？", "超时")
        assert body(told) == LOST["expired"]
        await asyncio.sleep(0.3)
        assert not [c for c in bot_api.calls_of("sendMessage") if c.index > told.index and "来源" in body(c)]
    async with bot_over(bot_api, seeded_db_url) as (app, _):
        admin = Chat(bot_api, ADMIN)
        await admin.tap(await admin.say("/admin", "管理菜单"), "新增条目", "请发送问题")
        await wait_until(lambda: len(stored_drafts(app)) == 2)
    with app.db.transaction() as s:                                  # the draft itself is gone, its step is not
        s.execute(delete(BotPersistenceRow).where(BotPersistenceRow.kind == "user_data"))
    async with bot_over(bot_api, seeded_db_url) as (app, _):
        admin = Chat(bot_api, ADMIN)
        told = await admin.say("临平区的红色根脉教育地点有哪些？", "没能恢复")
        assert body(told) == LOST["lost"]
        again = await admin.ask("临平免费体检名额")                     # and then the admin is free again
        assert "来源：" in body(again)


# ------------------------------------------------------------------ admins: import reports, /stats
async def test_import_reports_speak_chinese_read_gbk_and_point_at_the_bad_field(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        admin, user = Chat(bot_api, ADMIN), Chat(bot_api, USER)
        broken = await admin.send_file("faq.yaml", "entries:\n  - id: x\n    question: 问题\n   answer: 回答\n"
                                       .encode(), "没有写入任何数据")
        assert "第 4 行第 4 列" in body(broken) and "缩进" in body(broken) and "expected" not in body(broken)

        empty = await admin.send_file("faq.yaml", b"# nothing yet\n", "没有写入任何数据")
        assert "文件是空的" in body(empty) and "`" not in body(empty)

        stations = ("id,name,district,kind,latitude,longitude,address,hours,services\n"
                    "linping-gbk-1,临平测试驿站,临平,爱心驿站,30.42,120.30,临平大道1号,9:00-18:00,饮水;充电\n")
        done = await admin.send_file("驿站.csv", stations.encode("gbk"), "导入成功")
        assert "GBK/GB18030" in body(done)
        assert app.repos.stations.get("linping-gbk-1").district == "临平区"

        entry = app.repos.knowledge.get_entry("linping.health-check.quota").content()
        lines = ["entries:", "  - id: linping.short-district", "    district: 临平",
                 f"    category: {entry['category']}", "    question: 临平职工疗休养基地建多少个",
                 "    alternates: [临平疗休养基地, 疗休养基地数量, 临平疗养基地, 疗休养基地目标]",
                 "    keywords: [疗休养基地]", "    answer: 临平区的目标是到2026年底建成职工疗休养基地30个。",
                 "    sources:", "      - document: 002_b22997240e314b2b",
                 "        quote: 到2026年底,职工医疗互助参与率达90%,建成“爱心驿站”20个、"
                 "职工疗休养基地30个、“妈咪暖心小屋”50个"]
        bad = [*lines[:-1], "        quote: 到2026年底,建成职工疗休养基地99个"]
        report = await admin.send_file("faq.yaml", "\n".join(bad).encode(), "没有写入任何数据")
        assert "第 11 行" in body(report) and "引文不在文档" in body(report)   # the quote's line, not the entry's
        await admin.send_file("faq.yaml", "\n".join(lines).encode(), "导入成功")
        with app.db.transaction() as s:
            assert s.get(FaqRow, "linping.short-district").district == "临平区"
        answer = await user.ask("临平职工疗休养基地建多少个")
        assert "30" in body(answer) and "来源：《" in body(answer)


async def test_stats_with_a_wrong_argument_says_what_it_should_be(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        admin = Chat(bot_api, ADMIN)
        shown = await admin.say("/stats abc", "最近 30 天")
        assert "“abc”不是天数" in body(shown) and "/stats 7" in body(shown)
        week = await admin.say("/stats 7", "最近 7 天")
        assert "不是天数" not in body(week)
