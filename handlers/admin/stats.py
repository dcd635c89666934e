"""/stats: questions, answer rate, feedback and the most asked / unanswered questions."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from . import views
from .auth import admin_only
from .common import admin_service, flush_query_log, run, show

DEFAULT_DAYS = 30


@admin_only
async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats [days]"""
    arg = (context.args or [""])[0]
    days = int(arg) if arg.isdigit() and 0 < int(arg) <= 366 else DEFAULT_DAYS
    await show_stats(update, context, days=days)


async def show_stats(update: Update, context: ContextTypes.DEFAULT_TYPE, _args=None, days: int = DEFAULT_DAYS) -> None:
    svc = admin_service(context)
    await flush_query_log(context)
    text = await run(lambda: svc.format_stats(svc.stats(days)))
    await show(update, context, text, views.keyboard([views.back_to_menu()]))
