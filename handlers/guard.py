"""Runs before every handler: the per-user flood limit."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.flood import Verdict

from . import render
from .addressing import FOR_BOT
from .services import services

log = logging.getLogger("bot.flood")


async def flood_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Messages meant for the bot and button taps count; over the limit: one polite note, then silence."""
    user = update.effective_user
    if user is None:
        return
    if update.callback_query is None and not (update.message is not None and FOR_BOT.check_update(update)):
        return
    verdict = services(context).flood.check(user.id)
    if verdict is Verdict.ALLOW:
        return
    if verdict is Verdict.WARN:
        log.info("flood limit user=%s", user.id)
        if update.callback_query is not None:
            await update.callback_query.answer(render.FLOOD_TEXT)
        else:
            await update.effective_message.reply_text(render.FLOOD_TEXT)
    raise ApplicationHandlerStop
