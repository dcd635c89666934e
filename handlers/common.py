"""Small Telegram helpers shared by the handlers (tolerant of stale buttons)."""
from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

log = logging.getLogger(__name__)


async def answer_callback(query: CallbackQuery, text: str | None = None) -> None:
    """Stops the button's spinner; an expired query (>15 min, or a restart) is not an error."""
    try:
        await query.answer(text)
    except BadRequest as exc:
        log.info("callback answer skipped: %s", exc.message)


async def edit_or_send(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
                       markup: InlineKeyboardMarkup | None) -> None:
    """Edits the button's message in place; sends a new one if that message cannot be edited."""
    query = update.callback_query
    message = query.message if query else None
    if message is not None and getattr(message, "text", None) is not None:
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return
            log.info("edit failed, sending instead: %s", exc.message)
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, text, reply_markup=markup)
