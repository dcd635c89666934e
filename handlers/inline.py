"""Inline mode: `@bot 体检` in any chat offers answers to share, each with its source."""
from __future__ import annotations

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.ext import ContextTypes

from . import callbacks as cb
from . import render
from .services import services

MAX_RESULTS = 8
CACHE_SECONDS = 10            # results depend on the user's district, and admins edit answers


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    svc = services(context)
    district = await svc.district_of(query.from_user.id)
    engine = await svc.engine()
    text = (query.query or "").strip()[:render.MAX_BUTTON_TEXT * 4]
    if text:
        entries = engine.search_entries(text, district, limit=MAX_RESULTS)
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
    await query.answer(results, cache_time=CACHE_SECONDS, is_personal=True)
