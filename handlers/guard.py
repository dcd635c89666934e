"""Runs before every handler: the per-user flood limit."""
from __future__ import annotations

import logging
import math

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.flood import Verdict

from . import render
from .addressing import FOR_BOT
from .services import services

log = logging.getLogger("bot.flood")


async def flood_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Messages meant for the bot and button taps count. Over the limit: a note saying when to try
    again, then silence (told again if they keep writing). Admins are not held to the workers' rate:
    an upload or a guided edit is many messages and taps in a minute."""
    user = update.effective_user
    if user is None:
        return
    message = update.message or update.edited_message
    if update.callback_query is None and not (message is not None and FOR_BOT.check_update(update)):
        return
    svc = services(context)
    verdict = svc.flood.check(user.id)
    if verdict is Verdict.ALLOW or await svc.flood_exempt(user.id):
        return
    if verdict is Verdict.WARN:
        seconds = max(1, math.ceil(svc.flood.retry_in(user.id)))
        log.info("flood limit user=%s retry_in=%ss", user.id, seconds)
        text = render.flood_text(seconds)
        if update.callback_query is not None:
            await update.callback_query.answer(text)
        else:
            await update.effective_message.reply_text(text)
    raise ApplicationHandlerStop
