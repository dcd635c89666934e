"""/stats: questions, answer rate, feedback and the most asked / unanswered questions."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from . import views
from .auth import admin_only
from .common import admin_service, flush_query_log, run, show

DEFAULT_DAYS = 30


MAX_DAYS = 366


def days_arg(args: list[str] | None) -> tuple[int, str | None]:
    """/stats [days]: the days asked for, or the default and a note saying what the argument should be."""
    arg = " ".join(args or []).strip()
    if not arg:
        return DEFAULT_DAYS, None
    if arg.isdigit() and 0 < int(arg) <= MAX_DAYS:
        return int(arg), None
    return DEFAULT_DAYS, (f"“{arg[:20]}”不是天数。用法：/stats 天数，例如 /stats 7（1–{MAX_DAYS} 的整数）；"
                          f"不带数字就是最近 {DEFAULT_DAYS} 天。下面是最近 {DEFAULT_DAYS} 天：")


@admin_only
async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats [days]"""
    days, note = days_arg(context.args)
    await show_stats(update, context, days=days, note=note)


async def show_stats(update: Update, context: ContextTypes.DEFAULT_TYPE, _args=None, days: int = DEFAULT_DAYS,
                     note: str | None = None) -> None:
    svc = admin_service(context)
    await flush_query_log(context)
    text = await run(lambda: svc.format_stats(svc.stats(days)))
    await show(update, context, f"{note}\n\n{text}" if note else text, views.keyboard([views.back_to_menu()]))
