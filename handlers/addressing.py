"""Which messages are meant for the bot.

Why: in a group the bot must stay quiet unless it is called — a command, an
@mention, or a reply to one of its own messages; in a private chat everything
is for it.
"""
from __future__ import annotations

import re

from telegram import Message, MessageEntity
from telegram.ext import filters


def _bot_identity(message: Message) -> tuple[int | None, str | None]:
    try:
        bot = message.get_bot()
    except RuntimeError:
        return None, None
    try:
        return bot.id, bot.username
    except RuntimeError:           # not initialised yet (no getMe)
        return None, None


def mentions_bot(message: Message) -> bool:
    bot_id, username = _bot_identity(message)
    kinds = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    if message.text:
        entities = message.parse_entities(kinds)
    elif message.caption:                 # a photo or file whose caption asks the bot
        entities = message.parse_caption_entities(kinds)
    else:
        entities = {}
    for entity, text in entities.items():
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
        if entity.type == MessageEntity.MENTION and username and text.lstrip("@").lower() == username.lower():
            return True
    return False


def replies_to_bot(message: Message) -> bool:
    bot_id, _ = _bot_identity(message)
    reply = message.reply_to_message
    return bool(bot_id and reply and reply.from_user and reply.from_user.id == bot_id)


class _AddressedToBot(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        return mentions_bot(message) or replies_to_bot(message)


ADDRESSED_TO_BOT = _AddressedToBot(name="ADDRESSED_TO_BOT")
NEW_MESSAGE = filters.UpdateType.MESSAGE                    # not edits, not channel posts
EDITED_MESSAGE = filters.UpdateType.EDITED_MESSAGE          # a user changed an earlier message
PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS
# Updates that count towards the flood limit and may be answered.
FOR_BOT = (NEW_MESSAGE | EDITED_MESSAGE) & (PRIVATE | filters.COMMAND | (GROUPS & ADDRESSED_TO_BOT))


def strip_mention(text: str, username: str | None) -> str:
    """"@bot 体检" -> "体检" (any case, anywhere in the text)."""
    if username:
        text = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())
