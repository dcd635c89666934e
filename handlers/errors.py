"""The last line of defence: log the exception, and tell the user instead of going silent."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from . import render

log = logging.getLogger("bot.errors")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    if update is None:      # polling/network trouble: PTB retries by itself
        log.warning("error outside an update: %s: %s", type(error).__name__, error)
        return
    user = update.effective_user if isinstance(update, Update) else None
    log.error("handler failed user=%s update_id=%s error=%s", user.id if user else None,
              getattr(update, "update_id", None), type(error).__name__, exc_info=error)
    if not isinstance(update, Update) or isinstance(error, Forbidden):
        return      # blocked by the user: nothing can reach them
    try:
        if update.callback_query is not None:
            try:
                await update.callback_query.answer(render.ERROR_TEXT)
            except TelegramError:
                pass
        chat = update.effective_chat
        if chat is not None:
            await context.bot.send_message(chat.id, render.ERROR_TEXT)
        elif update.inline_query is not None:
            await update.inline_query.answer([], cache_time=0)
    except TelegramError as exc:
        log.warning("could not tell the user about the error: %s", exc)
