"""Updates a test sends the bot "from a user": messages, media, button presses, inline queries, edits."""

from __future__ import annotations

import copy
import mimetypes
import time
from typing import Any

from .._formatting import auto_entities
from ..records import BotState

FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32 + b"\xff\xd9"


FAKE_OGG = b"OggS\x00\x02" + b"\x00" * 40


FAKE_WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 28


class Pushing:
    """push_*: queue an update (getUpdates returns it, or the webhook worker posts it); returns the update."""

    def _push(self, bot: BotState, payload: dict, enqueue: bool) -> dict:
        update = {"update_id": bot.next_update_id}
        bot.next_update_id += 1
        update.update(copy.deepcopy(payload))
        if enqueue:
            bot.updates.append(update)
            self._cond.notify_all()
        return copy.deepcopy(update)

    def push_update(self, update: dict, *, token: str | None = None, enqueue: bool = True) -> dict:
        """Queue a raw update (any type); ``update_id`` is assigned by the server."""
        with self._cond:
            payload = {k: v for k, v in update.items() if k != "update_id"}
            return self._push(self._bot(token), payload, enqueue)

    def push_message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
        entities: list[dict] | None = None,
        reply_to_message: Any = None,
        message_thread_id: int | None = None,
        date: int | None = None,
        token: str | None = None,
        enqueue: bool = True,
        **fields: Any,
    ) -> dict:
        """Queue a message from a user; returns the update.

        ``chat_type``: "private" (chat id = user id), "group", "supergroup" or
        "channel" (becomes a ``channel_post``); group chats get a default id/title.

        Entities for /commands, @mentions, urls and #hashtags are computed (UTF-16
        offsets) unless ``entities`` is given.  Extra ``fields`` go into the
        Message verbatim (e.g. ``contact={...}``, ``caption="..."``).
        ``reply_to_message`` may be a message dict, a ``Call`` (its result) or a message_id.
        """
        with self._cond:
            bot = self._bot(token)
            user = self._user(user_id, username, first_name, last_name, language_code)
            chat = self._chat_for_push(bot, user, chat_id, chat_type, title)
            msg = self._new_message(bot, chat, user, date)
            if chat_type == "channel":  # channel posts have a sender_chat instead of a sender
                del msg["from"]
                msg["sender_chat"] = dict(chat)
            if message_thread_id is not None:
                msg["message_thread_id"] = message_thread_id
                msg["is_topic_message"] = True
            if reply_to_message is not None:
                msg["reply_to_message"] = self._lookup_message(bot, reply_to_message, chat["id"])
            if text is not None:
                msg["text"] = text
                ents = auto_entities(text) if entities is None else entities
                if ents:
                    msg["entities"] = ents
            for key, value in fields.items():
                if value is not None:
                    msg[key] = value
            if msg.get("caption") and "caption_entities" not in msg:
                ents = auto_entities(msg["caption"])
                if ents:
                    msg["caption_entities"] = ents
            self._store(bot, msg)
            return self._push(bot, {"channel_post" if chat_type == "channel" else "message": msg}, enqueue)

    def push_group_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "supergroup",
        title: str | None = None,
        mention_bot: bool = False,
        **kwargs: Any,
    ) -> dict:
        """Group/supergroup message; ``mention_bot=True`` prefixes ``@<botusername> `` (mention entity)."""
        if mention_bot:
            text = f"@{self.bot_user(kwargs.get('token'))['username']} {text}"
        return self.push_message(user_id, text, chat_id=chat_id, chat_type=chat_type, title=title, **kwargs)

    def push_location(self, user_id: int, latitude: float, longitude: float, **kwargs: Any) -> dict:
        """A shared location (Message.location)."""
        return self.push_message(user_id, None, location={"latitude": latitude, "longitude": longitude}, **kwargs)

    def push_sticker(self, user_id: int, emoji: str = "👍", *, content: bytes = FAKE_WEBP,
                     set_name: str | None = None, **kwargs: Any) -> dict:
        """A sticker message; its bytes are downloadable via getFile."""
        rec = self.add_file(content, mime_type="image/webp", kind="stickers")
        sticker = self._media_object("sticker", rec, {"emoji": emoji, "set_name": set_name})
        return self.push_message(user_id, None, sticker=sticker, **kwargs)

    def push_photo(self, user_id: int, content: bytes = FAKE_JPEG, *, caption: str | None = None,
                   width: int = 1280, height: int = 960, **kwargs: Any) -> dict:
        """A photo message (two PhotoSizes, largest last, like Telegram)."""
        rec = self.add_file(content, mime_type="image/jpeg", kind="photos")
        small = self.add_file(content, mime_type="image/jpeg", kind="photos")
        photo = self._media_object("photo", rec, {"width": width, "height": height})
        photo[0].update(small.meta())
        return self.push_message(user_id, None, photo=photo, caption=caption, **kwargs)

    def push_voice(self, user_id: int, content: bytes = FAKE_OGG, *, duration: int = 2,
                   mime_type: str = "audio/ogg", caption: str | None = None, **kwargs: Any) -> dict:
        """A voice note; bytes downloadable via getFile."""
        rec = self.add_file(content, mime_type=mime_type, kind="voice")
        voice = self._media_object("voice", rec, {"duration": duration})
        return self.push_message(user_id, None, voice=voice, caption=caption, **kwargs)

    def push_document(self, user_id: int, filename: str, content: bytes, mime_type: str | None = None,
                      *, caption: str | None = None, **kwargs: Any) -> dict:
        """A document; the bot can get_file() it and download exactly ``content``."""
        mime_type = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        rec = self.add_file(content, mime_type=mime_type, file_name=filename, kind="documents")
        return self.push_message(
            user_id, None, document=self._media_object("document", rec), caption=caption, **kwargs
        )

    def push_callback_query(
        self,
        user_id: int,
        data: str | None,
        message: Any = None,
        *,
        chat_id: int | None = None,
        inline_message_id: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        token: str | None = None,
        enqueue: bool = True,
    ) -> dict:
        """A button press on ``message`` (dict / Call / message_id of a message the bot sent).

        The update carries the message's *current* stored state (after edits).
        """
        with self._cond:
            bot = self._bot(token)
            user = self._user(user_id, username, first_name)
            cq_id = str(4_000_000_000_000_000_000 + next(self._ids))
            cq: dict[str, Any] = {"id": cq_id, "from": user}
            if message is not None:
                msg = self._lookup_message(bot, message, user_id if chat_id is None else chat_id)
                stored = bot.messages.get((msg["chat"]["id"], msg["message_id"])) or {}
                if "reply_to_message" in stored:        # like Telegram: the message a button is under keeps
                    msg["reply_to_message"] = copy.deepcopy(stored["reply_to_message"])   # what it replied to
                cq["message"] = msg
                cq["chat_instance"] = str(-(abs(msg["chat"]["id"]) * 1_000_003 % 10**18))
            else:
                cq["chat_instance"] = str(-(user_id * 1_000_003 % 10**18))
                cq["inline_message_id"] = inline_message_id or f"inline-{next(self._ids)}"
            if data is not None:
                cq["data"] = data
            bot.callback_ids.add(cq_id)
            return self._push(bot, {"callback_query": cq}, enqueue)

    def push_inline_query(
        self,
        user_id: int,
        query: str,
        *,
        offset: str = "",
        chat_type: str | None = "sender",
        location: dict | None = None,
        username: str | None = None,
        token: str | None = None,
        enqueue: bool = True,
    ) -> dict:
        """An inline query ``@bot <query>``; answer it with answerInlineQuery."""
        with self._cond:
            bot = self._bot(token)
            iq_id = str(5_000_000_000_000_000_000 + next(self._ids))
            iq: dict[str, Any] = {"id": iq_id, "from": self._user(user_id, username), "query": query, "offset": offset}
            if chat_type:
                iq["chat_type"] = chat_type
            if location:
                iq["location"] = location
            bot.inline_ids.add(iq_id)
            return self._push(bot, {"inline_query": iq}, enqueue)

    def push_edited_message(
        self,
        user_id: int,
        message: Any,
        text: str,
        *,
        chat_id: int | None = None,
        entities: list[dict] | None = None,
        token: str | None = None,
        enqueue: bool = True,
    ) -> dict:
        """The user edits an earlier message (dict / update / message_id) to ``text``."""
        with self._cond:
            bot = self._bot(token)
            msg = self._lookup_message(bot, message, user_id if chat_id is None else chat_id)
            if msg.get("from", {}).get("id") != user_id:
                raise ValueError("users can only edit their own messages")
            msg["text"] = text
            msg.pop("entities", None)
            ents = auto_entities(text) if entities is None else entities
            if ents:
                msg["entities"] = ents
            msg["edit_date"] = int(time.time())
            self._store(bot, msg)
            return self._push(bot, {"edited_message": msg}, enqueue)

    def pending_updates(self, *, token: str | None = None) -> list[dict]:
        """Updates queued and not yet confirmed by an offset (or webhook 2xx)."""
        with self._lock:
            return copy.deepcopy(self._bot(token).updates)
