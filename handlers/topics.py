"""/topics: browse categories, then their questions, paging by editing one message in place."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from . import callbacks as cb
from . import render
from .common import answer_callback, edit_or_send
from .services import services


async def _topic_list(context, district):
    engine = await services(context).engine()
    counts = {c["name"]: n for c, n in engine.topics(district)}
    return engine, [(i, c, counts[c["name"]]) for i, c in enumerate(engine.categories) if c["name"] in counts]


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    district = await services(context).district_of(user.id if user else None)
    _, items = await _topic_list(context, district)
    text, markup = render.topics_page(items, 0, district)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def topics_tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, args = cb.parse(query.data)
    page = int(args[0]) if args and args[0].isdigit() else 0
    district = await services(context).district_of(query.from_user.id)
    _, items = await _topic_list(context, district)
    text, markup = render.topics_page(items, page, district)
    await answer_callback(query)
    await edit_or_send(update, context, text, markup)


async def category_tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, args = cb.parse(query.data)
    if len(args) != 2 or not all(a.isdigit() for a in args):
        await answer_callback(query, "这个按钮已失效，请重新发送 /topics")
        return
    index, page = int(args[0]), int(args[1])
    district = await services(context).district_of(query.from_user.id)
    engine, items = await _topic_list(context, district)
    if index >= len(engine.categories):
        await answer_callback(query, "这个主题已不存在，请重新发送 /topics")
        return
    category = engine.categories[index]
    entries = engine.entries_in(category["name"], district)
    position = next((n for n, (i, _, _) in enumerate(items) if i == index), 0)
    text, markup = render.category_page(index, category, entries, page, position // render.TOPICS_PER_PAGE,
                                        district)
    await answer_callback(query)
    await edit_or_send(update, context, text, markup)


async def noop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer_callback(update.callback_query)
