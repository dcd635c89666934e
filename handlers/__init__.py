"""Telegram handlers by domain; `register` wires them onto an Application.

Each handler only translates between Telegram and the engine/repositories
(reached through handlers.services); nothing here decides what is true.
"""
from __future__ import annotations

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from . import errors, feedback, guard, inline, media, persistence, questions, render, start, stations, topics
from .addressing import ADDRESSED_TO_BOT, EDITED_MESSAGE, GROUPS, NEW_MESSAGE, PRIVATE
from .common import answer_callback
from .services import KEY, BotServices

__all__ = ["BOT_COMMANDS", "KEY", "BotServices", "register"]

BOT_COMMANDS = [
    BotCommand("start", "开始使用，选择所在区县"),
    BotCommand("topics", "按主题浏览问题"),
    BotCommand("stations", "查找附近的驿站"),
    BotCommand("district", "更改所在区县"),
    BotCommand("help", "使用帮助"),
    BotCommand("about", "资料来源和年份"),
]


async def _stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer_callback(update.callback_query, "这个按钮已失效，请重新提问或发送 /start")


async def _unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text("我不认识这个命令。\n\n" + render.help_text(context.bot.username))


def register(application: Application, svc: BotServices) -> None:
    application.bot_data[KEY] = svc
    application.add_handler(TypeHandler(Update, persistence.lost_draft_notice), group=-2)
    application.add_handler(TypeHandler(Update, guard.flood_guard), group=-1)
    application.add_handler(TypeHandler(Update, persistence.flush_after_admin_update), group=1)
    from .admin import register_admin  # admin conversations go first: they see an admin's replies
    register_admin(application)  # before the generic question handler does

    commands = [("start", start.start), ("district", start.district), ("help", start.help_command),
                ("about", start.about), ("topics", topics.topics), ("stations", stations.stations_command)]
    for name, callback in commands:
        application.add_handler(CommandHandler(name, callback, filters=NEW_MESSAGE))

    for pattern, callback in (
        (r"^d:", start.district_chosen), (r"^q:", questions.entry_tapped), (r"^f:", feedback.feedback),
        (r"^t:", topics.topics_tapped), (r"^c:", topics.category_tapped), (r"^s:", stations.station_tapped),
        (r"^sd:", stations.district_tapped), (r"^noop$", topics.noop),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern))
    application.add_handler(CallbackQueryHandler(_stale_button))
    application.add_handler(InlineQueryHandler(inline.inline_query))

    addressed = PRIVATE | (GROUPS & ADDRESSED_TO_BOT)
    application.add_handler(MessageHandler(NEW_MESSAGE & filters.LOCATION & addressed, stations.location))
    application.add_handler(MessageHandler(NEW_MESSAGE & PRIVATE & filters.Text([render.NEARBY_BUTTON]),
                                           stations.stations_command))
    application.add_handler(MessageHandler(NEW_MESSAGE & filters.TEXT & ~filters.COMMAND & addressed,
                                           questions.question))
    application.add_handler(MessageHandler(EDITED_MESSAGE & filters.TEXT & ~filters.COMMAND & addressed,
                                           questions.edited))
    application.add_handler(MessageHandler(NEW_MESSAGE & PRIVATE & filters.COMMAND, _unknown_command))
    application.add_handler(MessageHandler(
        NEW_MESSAGE & addressed & ~filters.TEXT & ~filters.LOCATION & ~filters.StatusUpdate.ALL, media.non_text))
    application.add_error_handler(errors.on_error)
