"""Stickers, photos, voice and other non-text messages: a caption that asks something is answered,
anything else gets a friendly pointer to typing instead."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from . import render
from .questions import captioned
from .services import services

_KINDS = ("sticker", "photo", "voice", "video_note", "video", "animation", "audio", "document", "contact",
          "poll", "dice")


def kind_of(message) -> str | None:
    for kind in _KINDS:
        if getattr(message, kind, None):
            return kind
    return None


async def answer_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A member's photo, file (any type: .txt and .csv too) or other media."""
    message = update.effective_message
    kind = kind_of(message)
    if (message.caption or "").strip():
        await captioned(update, context, kind)
        return
    await message.reply_text(render.non_text_reply(kind))


async def non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if kind_of(message) == "document" and not (message.caption or "").strip() and \
            await services(context).is_admin(update.effective_user.id if update.effective_user else None):
        return      # admins send files for the admin tools, not questions
    await answer_media(update, context)
