"""The last line of defence: log the exception, and tell the user instead of going silent.

Not every failed send deserves an apology (handlers.delivery): a reply that may have arrived
(no answer in time) is left alone; a reply the Bot API certainly refused is handled again later
by the inbox, so the user gets the answer, not an apology; a user who blocked the bot cannot be
told anything.
"""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from . import render
from .delivery import DeliveryUnknown, current_delivery

log = logging.getLogger("bot.errors")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    delivery = current_delivery()
    if delivery is not None:
        delivery.error = error
    if update is None:      # outside an update (a job): nothing to tell anyone
        log.warning("error outside an update: %s: %s", type(error).__name__, error)
        return
    user = update.effective_user if isinstance(update, Update) else None
    user_id, update_id = (user.id if user else None), getattr(update, "update_id", None)
    if isinstance(error, Forbidden):
        log.info("cannot write to user=%s update_id=%s: %s", user_id, update_id, error.message)
        return
    if isinstance(error, DeliveryUnknown):
        log.warning("reply may not have arrived user=%s update_id=%s: %s", user_id, update_id, error.message)
        return
    if delivery is not None and delivery.will_retry(error):
        log.warning("reply not delivered user=%s update_id=%s error=%s: %s; handled again later", user_id,
                    update_id, type(error).__name__, error)
        return
    log.error("handler failed user=%s update_id=%s error=%s", user_id, update_id, type(error).__name__,
              exc_info=error)
    if not isinstance(update, Update):
        return
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
