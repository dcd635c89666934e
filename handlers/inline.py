"""Inline mode: `@bot 体检` in any chat offers answers to share, each with its source.

A query nothing answers still gets one result saying so (an empty list looks like
a broken bot), and a button that opens a private chat with the bot.
"""
from __future__ import annotations

from telegram import InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent, Update
from telegram.ext import ContextTypes

from knowledge.answer import HOTLINE

from . import callbacks as cb
from . import render
from .services import services

MAX_RESULTS = 8
CACHE_SECONDS = 10            # results depend on the user's district, and admins edit answers
PRIVATE_BUTTON = "私聊我提问"
START_PARAMETER = "inline"


def _entries_for(engine, text: str, district: str | None) -> list:
    """The entries a query names; a short or broad query falls back to what the engine would suggest."""
    entries = engine.search_entries(text, district, limit=MAX_RESULTS)
    if entries:
        return entries
    answer = engine.answer(text, district)
    ids = ([answer.faq_id] if answer.faq_id else []) + [s.faq_id for s in answer.suggestions]
    return [engine.by_id[i] for i in dict.fromkeys(ids) if i in engine.by_id][:MAX_RESULTS]


def nothing_found(text: str) -> InlineQueryResultArticle:
    shown = render.clip(text, 20)
    return InlineQueryResultArticle(
        id="none", title=f"没有找到“{shown}”的答案", description="点这里或点上方按钮，私聊我换个说法再问",
        input_message_content=InputTextMessageContent(
            f"工会福利问答机器人没有找到“{shown}”的答案。可以私聊机器人、发送 /start 换个说法再问，"
            f"也可以咨询所在区县总工会或拨打{HOTLINE}职工服务热线。"))


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    svc = services(context)
    district = await svc.district_of(query.from_user.id)
    engine = await svc.engine()
    text = (query.query or "").strip()[:render.MAX_BUTTON_TEXT * 4]
    if text:
        entries = _entries_for(engine, text, district)
    else:   # empty query: the first general question of a few topics
        entries = []
        for category, _ in engine.topics(None):
            general = [e for e in engine.entries_in(category["name"], None) if e.district is None]
            if general and category["name"] != "关于本机器人":
                entries.append(general[0])
            if len(entries) >= 5:
                break
    results = []
    for entry in entries:
        answer = engine.answer_entry(entry.id, district)
        if answer is None:
            continue
        results.append(InlineQueryResultArticle(
            id=cb.ref_of(entry.id),
            title=render.clip(entry.question, 100),
            description=entry.district or "通用（各区县）",
            input_message_content=InputTextMessageContent(render.inline_text(answer)),
        ))
    button = None
    if not results and text:
        results.append(nothing_found(text))
        button = InlineQueryResultsButton(text=PRIVATE_BUTTON, start_parameter=START_PARAMETER)
    await query.answer(results, cache_time=CACHE_SECONDS, is_personal=True, button=button)
