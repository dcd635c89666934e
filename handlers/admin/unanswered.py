"""/unanswered: what members asked that the bot could not answer, turned into knowledge."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin import AdminError
from handlers.common import answer_callback

from . import entries, views
from .auth import admin_only
from .common import (
    ALT_TARGET,
    END,
    UNANSWERED,
    admin_service,
    draft,
    drop_draft,
    entry_by_ref,
    flush_query_log,
    new_draft,
    parse,
    prompt,
    run,
    search_typed,
    send,
    show,
    user_id,
    write,
)
from .steps import picked

DAYS = 30
LIMIT = 10


@admin_only
async def unanswered_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_unanswered(update, context)


async def show_unanswered(update: Update, context: ContextTypes.DEFAULT_TYPE, _args=None) -> None:
    await flush_query_log(context)
    groups = await run(admin_service(context).unanswered, DAYS, LIMIT)
    context.user_data[UNANSWERED] = [g.question for g in groups]   # the buttons carry an index into this
    await show(update, context, views.unanswered_text(groups, DAYS), views.unanswered_markup(groups))


async def _tapped_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The listed question a button names (the button answered), or None once the list is gone."""
    _, args = parse(update.callback_query.data)
    question = picked(args, context.user_data.get(UNANSWERED) or [])
    await answer_callback(update.callback_query,
                          None if question is not None else "列表已过期，请重新发送 /unanswered")
    return question


@admin_only
async def as_alternate(update: Update, context: ContextTypes.DEFAULT_TYPE):
    """加为已有条目的问法: suggest entries, or let the admin search."""
    question = await _tapped_question(update, context)
    if question is None:
        return END
    new_draft(context, "alternate", question=question)
    found = await run(admin_service(context).search, question, 6)
    text = f"要把“{question}”加为哪个条目的问法？"
    text += "\n点选下面的条目，或发送关键词搜索别的条目：" if found else "\n请发送关键词搜索条目："
    await prompt(update, context, text, views.entry_list_markup(found, "ut") if found else None)
    return ALT_TARGET


@admin_only
async def search_target(update: Update, context: ContextTypes.DEFAULT_TYPE):
    found = await search_typed(update, context)
    if found is None:
        return None
    await send(update, context, f"点选要加问法的条目（“{draft(context)['question']}”）：",
               views.entry_list_markup(found, "ut"))
    return None


@admin_only
async def target_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE):
    query = update.callback_query
    _, args = parse(query.data)
    entry = await entry_by_ref(context, args[0] if args else "")
    if entry is None:
        await answer_callback(query, "这个条目已不存在。")
        return None
    question = draft(context)["question"]
    try:
        entry = await write(context, admin_service(context).add_alternate, entry.id, question, user_id(update))
    except AdminError as exc:
        await answer_callback(query, str(exc))
        return None
    await answer_callback(query, "已加入")
    drop_draft(context)
    await entries.send_entry(update, context, entry, f"✅ 已把“{question}”加为这个条目的问法，机器人现在就能答上了。")
    return END


@admin_only
async def as_new_entry(update: Update, context: ContextTypes.DEFAULT_TYPE):
    """用它新建条目: the add conversation with the question filled in."""
    question = await _tapped_question(update, context)
    if question is None:
        return END
    return await entries.start_add_with(update, context, question)
