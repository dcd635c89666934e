"""The Telegram bot end to end: the real PTB networking stack against the local Bot API server.

Every test starts the bot the way run_telegram does (initialize, post_init, polling or webhook)
over a private copy of a seeded SQLite database, pushes updates into the fake server and waits
for the bot's calls with wait_for (no sleeps).
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import load_settings
from bot.models import FeedbackRow, QueryLogRow
from bot.setup import open_app
from handlers import render
from handlers.application import build_application, start_polling, start_webhook, stop
from local_bot_api import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio, pytest.mark.timeout(30)]

ROOT = Path(__file__).resolve().parent.parent
USER = 4242
DISTRICT_NAMES = ("拱墅区", "富阳区", "临平区", "上虞区", "建德市")


def settings_for(api, db_url, **env):
    return load_settings(_env_file=None, DATABASE_URL=db_url, TELEGRAM_BOT_TOKEN=api.token,
                         TELEGRAM_API_BASE_URL=api.url, **env)


@contextlib.asynccontextmanager
async def running_bot(api, db_url, **env):
    """The bot polling the local server; yields (App, Application)."""
    app = open_app(settings_for(api, db_url, **env), load_knowledge=False)
    application = build_application(app)
    await start_polling(application, poll_timeout=5)
    try:
        yield app, application
    finally:
        await stop(application)


def buttons(call) -> list[dict]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def rows_of(app, model):
    with app.db.transaction() as s:
        return list(s.scalars(select(model).order_by(model.id)))


# ------------------------------------------------------------------ start and districts
async def test_start_offers_districts_and_the_choice_is_stored(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        commands = await bot_api.wait_for_async("setMyCommands")
        assert {c["command"] for c in commands.params["commands"]} >= {"start", "topics", "stations", "district",
                                                                        "help", "about"}
        bot_api.push_message(USER, "/start")
        welcome = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER})
        text = welcome.params["text"]
        assert all(name in text for name in DISTRICT_NAMES)
        assert all(years in text for years in ("2024–2025", "2021–2026", "2022–2023", "建德 2021"))
        labels = {b["text"]: b["callback_data"] for b in buttons(welcome)}
        assert set(DISTRICT_NAMES) <= set(labels) and any("不限区县" in t for t in labels)

        mark = bot_api.mark()
        bot_api.push_callback_query(USER, labels["临平区"], welcome)
        edited = await bot_api.wait_for_async("editMessageText", since=mark)
        assert edited.params["message_id"] == welcome.result["message_id"] and "临平区" in edited.params["text"]
        assert app.repos.preferences.district_of(USER) == "临平区"

        mark = bot_api.mark()
        bot_api.push_message(USER, "/district")
        shown = await bot_api.wait_for_async("sendMessage", since=mark)
        assert "当前区县：临平区" in shown.params["text"]
        assert any(b["text"] == "✅ 临平区" for b in buttons(shown))


async def test_restart_keeps_the_users_district(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        bot_api.push_message(USER, "/district 建德")
        done = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER})
        assert "建德市" in done.params["text"]
    mark = bot_api.mark()
    async with running_bot(bot_api, seeded_db_url):          # a new Application and App over the same file
        bot_api.push_message(USER, "/district")
        shown = await bot_api.wait_for_async("sendMessage", since=mark)
        assert "当前区县：建德市" in shown.params["text"]


# ------------------------------------------------------------------ questions
async def test_question_gets_answer_source_buttons_and_feedback(bot_api, seeded_db_url):
    question = "临平免费体检名额有多少"
    async with running_bot(bot_api, seeded_db_url) as (app, application):
        services = application.bot_data["services"]
        engine = app.knowledge.engine
        expected = engine.answer(question, None)
        assert expected.matched and expected.sources
        bot_api.push_message(USER, question)
        reply = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER})
        text = reply.params["text"]
        assert text == render.answer_text(expected) and text.endswith(expected.source_line())
        related = [b for b in buttons(reply) if b["callback_data"].startswith("q:")]
        votes = [b for b in buttons(reply) if b["callback_data"].startswith("f:")]
        assert 1 <= len(related) <= 3 and [b["text"][:1] for b in votes] == ["👍", "👎"]

        mark = bot_api.mark()
        bot_api.push_callback_query(USER, votes[0]["callback_data"], reply)
        edited = await bot_api.wait_for_async("editMessageReplyMarkup", since=mark)
        await services.writer.drain()                   # the query log is written behind the replies
        logged = rows_of(app, QueryLogRow)
        assert [(r.question, r.user_id, r.matched, r.faq_id) for r in logged] == \
            [(question, USER, True, expected.faq_id)]
        assert logged[0].latency_ms is not None
        assert [b["text"] for row in edited.params["reply_markup"]["inline_keyboard"] for b in row
                if b["callback_data"].startswith("f:")] == ["✅ 👍 有帮助", "👎 没帮助"]
        feedback = rows_of(app, FeedbackRow)
        assert [(f.helpful, f.faq_id, f.query_id, f.user_id, f.question) for f in feedback] == \
            [(True, expected.faq_id, logged[0].id, USER, question)]

        # a related question opens as a new message, answered from that entry
        mark = bot_api.mark()
        bot_api.push_callback_query(USER, related[0]["callback_data"], reply)
        opened = await bot_api.wait_for_async("sendMessage", since=mark)
        faq_id = related[0]["callback_data"][2:]
        assert opened.params["text"] == render.answer_text(engine.answer_entry(faq_id, None))
        assert "来源：《" in opened.params["text"]


async def test_did_you_mean_button_answers_the_suggested_entry(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        engine = app.knowledge.engine
        lines = (ROOT / "tests" / "data" / "labelled_questions.jsonl").read_text("utf-8").splitlines()
        candidates = ["骑手保险", "小哥学院是和哪几所学校一起办的"] + [json.loads(x)["q"] for x in lines if x.strip()]
        question = next(q for q in candidates
                        if (a := engine.answer(q, None)).kind in ("not_found", "choices") and a.suggestions)
        expected = engine.answer(question, None)
        bot_api.push_message(USER, question)
        reply = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER})
        assert reply.params["text"] == render.answer_text(expected)
        offered = [b for b in buttons(reply) if b["callback_data"].startswith("q:")]
        assert offered and len(offered) <= 3 and not any(b["callback_data"].startswith("f:") for b in buttons(reply))

        mark = bot_api.mark()
        bot_api.push_callback_query(USER, offered[0]["callback_data"], reply)
        opened = await bot_api.wait_for_async("sendMessage", since=mark)
        target = expected.suggestions[0].faq_id
        assert opened.params["text"] == render.answer_text(engine.answer_entry(target, None))
        await bot_api.wait_for_async("answerCallbackQuery", since=mark)


async def test_topics_page_and_browse_by_editing_one_message(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        bot_api.push_message(USER, "/topics")
        menu = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER})
        message_id = menu.result["message_id"]
        assert "第 1/" in menu.params["text"]
        next_page = next(b for b in buttons(menu) if "▶️" in b["text"])

        mark = bot_api.mark()
        bot_api.push_callback_query(USER, next_page["callback_data"], menu)
        page2 = await bot_api.wait_for_async("editMessageText", since=mark)
        assert page2.params["message_id"] == message_id and "第 2/" in page2.params["text"]
        category = next(b for b in buttons(page2) if b["callback_data"].startswith("c:"))

        bot_api.push_callback_query(USER, category["callback_data"], menu)
        questions = await bot_api.wait_for_async("editMessageText", lambda c: "点选问题" in c.params["text"],
                                                 since=mark)
        assert questions.params["message_id"] == message_id
        assert any(b["callback_data"].startswith("q:") for b in buttons(questions))
        back = next(b for b in buttons(questions) if "返回" in b["text"])

        bot_api.push_callback_query(USER, back["callback_data"], menu)
        again = await bot_api.wait_for_async("editMessageText", lambda c: "按主题浏览" in c.params["text"]
                                             and c.index > questions.index, since=mark)
        assert "第 2/" in again.params["text"]            # back to the page the category was on
        assert bot_api.calls_of("sendMessage")[-1].index < mark   # paging never sent a new message


# ------------------------------------------------------------------ stations
async def test_location_gets_the_nearest_station_as_a_venue_marked_as_example(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        bot_api.push_location(USER, 30.2790, 120.1615)      # next to the first 拱墅区 example
        venue = await bot_api.wait_for_async("sendVenue", match={"chat_id": USER})
        assert venue.params["latitude"] == pytest.approx(30.278) and venue.params["longitude"] == pytest.approx(120.162)
        assert "示例" in venue.params["title"] and "非真实站点" in venue.params["address"]
        listing = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER})
        assert render.EXAMPLE_WARNING in listing.params["text"] and "米" in listing.params["text"]
        others = [b for b in buttons(listing) if b["callback_data"].startswith("s:")]
        assert 1 <= len(others) <= 4

        mark = bot_api.mark()
        bot_api.push_callback_query(USER, others[0]["callback_data"], listing)
        second = await bot_api.wait_for_async("sendVenue", since=mark)
        assert "示例" in second.params["title"] and second.params["title"] != venue.params["title"]


async def test_stations_command_offers_location_button_and_district_lists(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        bot_api.push_message(USER, "/stations")
        prompt, listing = await bot_api.wait_for_count_async("sendMessage", 2, match={"chat_id": USER})
        keyboard = prompt.params["reply_markup"]["keyboard"]
        assert keyboard[0][0]["request_location"] is True and keyboard[0][0]["text"] == render.NEARBY_BUTTON
        gongshu = next(b for b in buttons(listing) if b["text"].endswith("拱墅"))

        mark = bot_api.mark()
        bot_api.push_callback_query(USER, gongshu["callback_data"], listing)
        edited = await bot_api.wait_for_async("editMessageText", since=mark)
        assert "拱墅区的驿站" in edited.params["text"] and render.EXAMPLE_WARNING in edited.params["text"]


# ------------------------------------------------------------------ inline mode
async def test_inline_queries_offer_answers_with_sources(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        bot_api.push_inline_query(USER, "体检")
        call = await bot_api.wait_for_async("answerInlineQuery")
        results = call.params["results"]
        assert call.ok and results and call.params["cache_time"] <= 60
        for r in results:
            assert r["type"] == "article" and len(r["id"].encode()) <= 64
            assert "来源：《" in r["input_message_content"]["message_text"]
            assert r["description"] in DISTRICT_NAMES or r["description"].startswith("通用")
        mark = bot_api.mark()
        bot_api.push_inline_query(USER, "")
        empty = await bot_api.wait_for_async("answerInlineQuery", since=mark)
        assert empty.ok and all(r["description"].startswith("通用") for r in empty.params["results"])


# ------------------------------------------------------------------ groups
async def test_group_answers_only_mentions_replies_and_commands(bot_api, seeded_db_url):
    group = -100777
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        engine = app.knowledge.engine
        mark = bot_api.mark()
        bot_api.push_group_message(USER, "临平免费体检名额", chat_id=group)          # chatter: ignored
        asked = bot_api.push_group_message(USER, "免费体检名额", chat_id=group, mention_bot=True)
        answer = await bot_api.wait_for_async("sendMessage", match={"chat_id": group}, since=mark)
        assert answer.params["text"] == render.answer_text(engine.answer("免费体检名额", None))  # mention stripped
        assert answer.params["reply_parameters"]["message_id"] == asked["message"]["message_id"]

        follow = bot_api.push_group_message(USER, "疗休养呢", chat_id=group, reply_to_message=answer)
        reply = await bot_api.wait_for_async("sendMessage", lambda c: c.index > answer.index,
                                             match={"chat_id": group})
        assert reply.params["reply_parameters"]["message_id"] == follow["message"]["message_id"]

        bot_api.push_group_message(USER, f"/help@{bot_api.bot_username}", chat_id=group)
        helped = await bot_api.wait_for_async("sendMessage", lambda c: "怎么用" in c.params["text"],
                                              match={"chat_id": group})
        bot_api.push_group_message(USER + 1, "sentinel", chat_id=group + 1, mention_bot=True)
        await bot_api.wait_for_async("sendMessage", match={"chat_id": group + 1})
        sent = [c for c in bot_api.calls_of("sendMessage") if c.index >= mark and c.params["chat_id"] == group]
        assert [c.index for c in sent] == [answer.index, reply.index, helped.index]


# ------------------------------------------------------------------ odd input
async def test_non_text_and_odd_texts_get_friendly_replies(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, application):
        bot_api.push_sticker(501)
        bot_api.push_photo(502)
        bot_api.push_voice(503)
        for user in (501, 502, 503):
            reply = await bot_api.wait_for_async("sendMessage", match={"chat_id": user})
            assert "只能看懂文字问题" in reply.params["text"]

        long_text = ("医疗互助怎么报销" * 600)[:4096]
        odd = {504: "\u3000 ", 505: "😀😀🎉", 506: "'; DROP TABLE query_log; --", 507: long_text}
        for user, text in odd.items():
            bot_api.push_message(user, text)
        for user in odd:
            reply = await bot_api.wait_for_async("sendMessage", match={"chat_id": user})
            assert reply.ok and reply.params["text"] and reply.params["text"] != render.ERROR_TEXT
        long_reply = next(c for c in bot_api.calls_of("sendMessage") if c.params["chat_id"] == 507)
        assert long_reply.params["text"].startswith(render.LONG_NOTE) and "来源：" in long_reply.params["text"]
        await application.bot_data["services"].writer.drain()
        assert len(rows_of(app, QueryLogRow)) == 4           # the table survived the "SQL"


# ------------------------------------------------------------------ resilience
async def test_a_429_with_retry_after_is_retried(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url):
        bot_api.fail_next("sendMessage", 429, retry_after=1)
        bot_api.push_message(USER, "临平免费体检名额")
        delivered = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER}, ok=True)
        attempts = [c for c in bot_api.calls_of("sendMessage") if c.params["chat_id"] == USER]
        assert [c.status for c in attempts] == [429, 200] and attempts[1] is delivered
        assert "来源：" in delivered.params["text"]


async def test_flood_limit_warns_once_saying_when_then_ignores(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url, FLOOD_LIMIT_PER_MINUTE=3):
        for i in range(7):
            bot_api.push_message(USER, f"体检 {i}")
        replies = await bot_api.wait_for_count_async("sendMessage", 4, match={"chat_id": USER})
        bot_api.push_message(USER + 1, "体检")                 # another user is not affected
        await bot_api.wait_for_async("sendMessage", match={"chat_id": USER + 1})
        mine = [c for c in bot_api.calls_of("sendMessage") if c.params["chat_id"] == USER]
        warnings = [c.params["text"] for c in replies if c.params["text"].startswith(render.FLOOD_TEXT)]
        assert len(mine) == 4 and len(warnings) == 1
        seconds = int(re.search(r"请 (\d+) 秒后再发", warnings[0])[1])
        assert 50 <= seconds <= 60                             # the first of the 3 left the window then


async def test_error_handler_logs_and_tells_the_user(bot_api, seeded_db_url, caplog):
    async with running_bot(bot_api, seeded_db_url) as (_, application):
        svc = application.bot_data["services"]
        real = svc.ask

        async def broken(question, *args, **kwargs):
            if question == "boom":
                raise RuntimeError("engine exploded")
            return await real(question, *args, **kwargs)

        svc.ask = broken
        with caplog.at_level(logging.ERROR, logger="bot.errors"):
            bot_api.push_message(USER, "boom")
            sorry = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER})
        assert sorry.params["text"] == render.ERROR_TEXT
        assert any(r.exc_info and "engine exploded" in str(r.exc_info[1]) for r in caplog.records)
        bot_api.push_message(USER, "临平免费体检名额")            # and the bot carries on
        fine = await bot_api.wait_for_async("sendMessage", lambda c: c.index > sorry.index, match={"chat_id": USER})
        assert "来源：" in fine.params["text"]


# ------------------------------------------------------------------ webhook mode
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_mode_rejects_posts_without_the_secret(bot_api, seeded_db_url):
    port = free_port()
    settings = settings_for(bot_api, seeded_db_url, WEBHOOK_URL=f"http://127.0.0.1:{port}/tg/hook",
                            WEBHOOK_SECRET="s3cret-Token_1", WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=port)
    application = build_application(open_app(settings, load_knowledge=False))
    await start_webhook(application, settings)
    try:
        hook = await bot_api.wait_for_async("setWebhook")
        assert hook.params["url"] == f"http://127.0.0.1:{port}/tg/hook"
        assert hook.params["secret_token"] == "s3cret-Token_1"
        bot_api.push_message(USER, "临平免费体检名额")            # delivered by the server like Telegram
        first = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER})
        assert "来源：" in first.params["text"]

        mark = bot_api.mark()
        forged = bot_api.push_message(USER + 1, "富阳疗休养", enqueue=False)
        assert await bot_api.post_webhook_async(forged, secret_token=None) == 403
        assert await bot_api.post_webhook_async(forged, secret_token="wrong") == 403
        genuine = bot_api.push_message(USER + 2, "富阳疗休养", enqueue=False)
        assert await bot_api.post_webhook_async(genuine) == 200
        await bot_api.wait_for_async("sendMessage", match={"chat_id": USER + 2}, since=mark)
        assert not [c for c in bot_api.calls_of("sendMessage") if c.params["chat_id"] == USER + 1]
    finally:
        await stop(application)


# ------------------------------------------------------------------ the real process
@pytest.mark.slow
@pytest.mark.parametrize(("args", "url_suffix"), [(["run"], ""), ([], "/bot")], ids=["run", "no-arguments-bot-url"])
async def test_run_bot_process_answers_and_stops_cleanly(tmp_path, args, url_suffix):
    """`run_bot.py run`, and `run_bot.py` alone with python-telegram-bot's own base_url form (…/bot)."""
    token = "4242:PROCESS-test_token"
    with ServerProcess(token) as server:
        remote = server.client
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": server.url + url_suffix,
               "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "LOG_LEVEL": "DEBUG", "PYTHONUNBUFFERED": "1"}
        env.pop("WEBHOOK_URL", None)
        log_path = tmp_path / "bot.log"
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen([sys.executable, str(ROOT / "run_bot.py"), *args], cwd=ROOT, env=env,
                                    stdout=log_file, stderr=subprocess.STDOUT)
            try:
                await remote.wait_until_polling_async(timeout=25)
                remote.push_message(USER, "临平免费体检名额")
                reply = await remote.wait_for_async("sendMessage", match={"chat_id": USER}, timeout=10)
                assert "来源：《" in reply.params["text"]
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    code = proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
                    raise
        assert code == 0
        log = log_path.read_text("utf-8", errors="replace")
        assert "question user=4242" in log and "PROCESS-test_token" not in log
