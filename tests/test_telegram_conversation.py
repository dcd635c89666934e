"""Conversations in Telegram (issue 9): the bot keeps the recent turns and hands them to the engine.

The engine's follow-up reading is not what is tested here: AnswerEngine.answer is wrapped to record
the history it was given (and, for the "接着您问的" line, to mark a reply as a follow-up the way the
engine does, through Answer.continued). What is tested is the plumbing: per chat, per user in groups,
stored (a restart or a second process continues), expired after the quiet period, cleared by /start;
edited messages and captioned photos/files are answered.
"""
from __future__ import annotations

import contextlib
import dataclasses
import time

import pytest

from bot.config import load_settings
from bot.flood import FloodGate
from bot.setup import open_app
from handlers import render
from handlers.application import build_application, start_polling, stop
from handlers.services import BotServices
from knowledge.conversation import QUIET_SECONDS, Turn
from knowledge.engine import AnswerEngine

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio, pytest.mark.timeout(30)]

USER = 4242
OTHER = 4343
GROUP = -100555
Q1 = "临平读大专有补贴吗"
Q2 = "那富阳呢"


@pytest.fixture
def asked(monkeypatch):
    """Every engine.answer call as (question, history questions); a reply given history is marked
    as continuing the last turn (what the engine does for a follow-up)."""
    calls: list[tuple[str, tuple[str, ...]]] = []
    real = AnswerEngine.answer

    def answer(self, question, district=None, history=()):
        calls.append((question, tuple(t.question for t in history)))
        result = real(self, question, district, history)
        if history and question == Q2:
            result = dataclasses.replace(result, continued=history[-1].question)
        return result

    monkeypatch.setattr(AnswerEngine, "answer", answer)
    return calls


def history_of(calls, question: str) -> tuple[str, ...]:
    return [h for q, h in calls if q == question][-1]


@contextlib.asynccontextmanager
async def running_bot(api, db_url, **env):
    settings = load_settings(_env_file=None, DATABASE_URL=db_url, TELEGRAM_BOT_TOKEN=api.token,
                             TELEGRAM_API_BASE_URL=api.url, FLOOD_LIMIT_PER_MINUTE=1000, **env)
    app = open_app(settings, load_knowledge=False)
    application = build_application(app)
    await start_polling(application, poll_timeout=5)
    try:
        yield app, application
    finally:
        await stop(application)


async def say(api, user, text, **kwargs):
    mark = api.mark()
    pushed = api.push_message(user, text, **kwargs)
    chat = kwargs.get("chat_id", user)
    reply = await api.wait_for_async("sendMessage", match={"chat_id": chat}, since=mark)
    return pushed, reply


async def test_a_follow_up_gets_the_earlier_turn_and_says_what_it_continued(bot_api, seeded_db_url, asked):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        _, first = await say(bot_api, USER, Q1)
        _, second = await say(bot_api, USER, Q2)
        assert history_of(asked, Q1) == () and history_of(asked, Q2) == (Q1,)
        assert not first.params["text"].startswith("接着")
        assert second.params["text"].startswith(f"接着您问的「{Q1}」：\n")
        assert "来源：" in second.params["text"] or "12351" in second.params["text"]


async def test_the_conversation_survives_a_restart_and_is_seen_by_a_second_process(bot_api, seeded_db_url, asked):
    async with running_bot(bot_api, seeded_db_url):
        await say(bot_api, USER, Q1)
    async with running_bot(bot_api, seeded_db_url):         # a new App and Application over the same database
        await say(bot_api, USER, Q2)
    assert history_of(asked, Q2) == (Q1,)

    # two processes at once (webhook workers behind one address): each sees what the other answered
    first = open_app(load_settings(_env_file=None, DATABASE_URL=seeded_db_url), load_knowledge=False)
    second = open_app(load_settings(_env_file=None, DATABASE_URL=seeded_db_url), load_knowledge=False)
    a, b = BotServices(first, FloodGate(100)), BotServices(second, FloodGate(100))
    answered = await a.ask("富阳疗休养", None, OTHER, conversation=str(OTHER))
    a.remember_turn(str(OTHER), answered)
    await a.conversations.drain()
    assert [t.question for t in await b.conversations.history(str(OTHER))] == ["富阳疗休养"]
    for svc in (a, b):
        await svc.close()
        svc.app.db.dispose()


async def test_two_users_in_one_group_are_kept_apart(bot_api, seeded_db_url, asked):
    async with running_bot(bot_api, seeded_db_url):
        for user, text in ((USER, Q1), (OTHER, "上虞妈咪小屋")):
            mark = bot_api.mark()
            bot_api.push_group_message(user, text, chat_id=GROUP, mention_bot=True)
            await bot_api.wait_for_async("sendMessage", match={"chat_id": GROUP}, since=mark)
        mark = bot_api.mark()
        bot_api.push_group_message(OTHER, Q2, chat_id=GROUP, mention_bot=True)
        await bot_api.wait_for_async("sendMessage", match={"chat_id": GROUP}, since=mark)
        mark = bot_api.mark()
        bot_api.push_group_message(USER, "怎么申请", chat_id=GROUP, mention_bot=True)
        await bot_api.wait_for_async("sendMessage", match={"chat_id": GROUP}, since=mark)
    assert history_of(asked, Q2) == ("上虞妈咪小屋",)          # the other user's own turn, not the first user's
    assert history_of(asked, "怎么申请") == (Q1,)


async def test_a_quiet_conversation_expires_and_start_clears_it(bot_api, seeded_db_url, asked):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        stale = Turn(Q1, "临平区", None, None, "faq", Q1, at=time.time() - QUIET_SECONDS - 60)
        app.repos.conversations.write({str(USER): [stale.to_json()]})
        await say(bot_api, USER, Q2)
        assert history_of(asked, Q2) == ()                   # half an hour of quiet: a new conversation

        await say(bot_api, USER, Q1)
        await say(bot_api, USER, "/start")
        await say(bot_api, USER, "怎么申请")
        assert history_of(asked, "怎么申请") == ()
        await say(bot_api, USER, "富阳呢")
        assert history_of(asked, "富阳呢") == ("怎么申请",)


async def test_an_edited_question_is_answered_again_as_a_reply_to_it(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        pushed, _ = await say(bot_api, USER, "体检")
        mark = bot_api.mark()
        bot_api.push_edited_message(USER, pushed, "临平免费体检名额")
        again = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER}, since=mark)
        assert again.params["reply_parameters"]["message_id"] == pushed["message"]["message_id"]
        expected = app.knowledge.engine.answer("临平免费体检名额", None, ())
        assert expected.answer.strip() in again.params["text"] and "来源：《" in again.params["text"]


async def test_a_captioned_photo_or_file_is_answered_from_the_caption(bot_api, seeded_db_url):
    async with running_bot(bot_api, seeded_db_url) as (app, _):
        mark = bot_api.mark()
        bot_api.push_photo(USER, caption="临平免费体检名额")
        photo = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER}, since=mark)
        assert photo.params["text"].startswith(render.caption_note("photo"))
        assert "来源：《" in photo.params["text"]

        mark = bot_api.mark()
        bot_api.push_document(OTHER, "体检通知.pdf", b"%PDF-1.4 ...", caption="临平免费体检名额")
        document = await bot_api.wait_for_async("sendMessage", match={"chat_id": OTHER}, since=mark)
        assert document.params["text"].startswith(render.caption_note("document"))
        assert "来源：《" in document.params["text"]

        mark = bot_api.mark()
        bot_api.push_photo(USER)                                # no caption: nothing to answer
        plain = await bot_api.wait_for_async("sendMessage", match={"chat_id": USER}, since=mark)
        assert plain.params["text"] == render.non_text_reply("photo")
        assert not bot_api.calls_of("getFile")                  # the picture itself is never downloaded
