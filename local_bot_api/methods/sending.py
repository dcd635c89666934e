"""Bot API methods that send: text (formatting checked like Telegram), places, media, forwards, copies."""

from __future__ import annotations

import copy
import mimetypes
from typing import Any

from .._formatting import FormatError, auto_entities, check_markdown_v2, parse_html
from ..records import (
    UNSET,
    ApiError,
    Request,
    StoredFile,
    as_int,
    require_param,
    strip_reply,
)

INLINE_BUTTON_ACTIONS = {
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
}


MESSAGE_META = {
    "message_id", "from", "chat", "date", "edit_date", "reply_to_message", "forward_origin",
    "reply_markup", "media_group_id", "sender_chat", "message_thread_id", "is_topic_message",
    "has_protected_content", "author_signature",
}

#: send<Kind> methods that differ only in the kind of media they send.
MEDIA_METHODS = {
    "sendDocument": "document", "sendPhoto": "photo", "sendAudio": "audio", "sendVoice": "voice",
    "sendVideo": "video", "sendAnimation": "animation", "sendSticker": "sticker", "sendVideoNote": "video_note",
}

#: kind -> (folder of its file_path, MIME type when the upload names none).
MEDIA_KINDS = {
    "document": ("documents", "application/octet-stream"),
    "photo": ("photos", "image/jpeg"),
    "audio": ("music", "audio/mpeg"),
    "voice": ("voice", "audio/ogg"),
    "video": ("videos", "video/mp4"),
    "animation": ("animations", "video/mp4"),
    "sticker": ("stickers", "image/webp"),
    "video_note": ("video_notes", "video/mp4"),
}


class SendingMethods:
    """Each ``_api_<methodName>`` runs under the state lock and returns the "result"."""

    def _formatted(self, p: dict, key: str, ents_key: str, limit: int, required: bool) -> dict:
        text = p.get(key)
        if text is None or text == "":
            if required:
                raise ApiError(400, "Bad Request: message text is empty")
            return {}
        text = str(text)
        ents = p.get(ents_key)
        mode = str(p.get("parse_mode") or "").lower()
        if ents is None and mode:
            if mode == "html":
                try:
                    text, ents = parse_html(text)
                except FormatError as exc:
                    if self.strict_formatting:
                        raise ApiError(400, str(exc)) from None
            elif mode == "markdownv2":
                try:
                    check_markdown_v2(text)
                except FormatError as exc:
                    if self.strict_formatting:
                        raise ApiError(400, str(exc)) from None
            elif mode != "markdown":
                raise ApiError(400, f"Bad Request: unsupported parse_mode {p.get('parse_mode')!r}")
        if not text.strip():
            if required:
                raise ApiError(400, "Bad Request: message text is empty")
            return {}
        if len(text) > limit:
            raise ApiError(400, "Bad Request: message is too long" if key == "text"
                           else "Bad Request: message caption is too long")
        if ents is None:
            ents = auto_entities(text)
        out: dict[str, Any] = {key: text}
        if ents:
            out[ents_key] = ents
        return out

    @staticmethod
    def _check_markup(markup: Any) -> dict | None:
        """Validate reply_markup; return it if it belongs in Message.reply_markup (inline only)."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return None  # reply keyboards / remove / force_reply are not echoed by Telegram
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: field \"inline_keyboard\" "
                                "of the InlineKeyboardMarkup must be an Array of Arrays")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text must be non-empty")
                if not INLINE_BUTTON_ACTIONS & set(button):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are "
                                        "unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _bot_message(self, r: Request, content: dict, *, media_group_id: str | None = None) -> dict:
        """Create, store and return a message sent by the bot (common part of all send*)."""
        bot, p = r.bot, r.params
        chat = self._resolve_chat(bot, p.get("chat_id"))
        if chat["type"] == "private" and chat["id"] in bot.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        markup = self._check_markup(p.get("reply_markup"))
        reply = p.get("reply_parameters")
        if reply is None and p.get("reply_to_message_id") is not None:
            reply = {"message_id": p["reply_to_message_id"]}
        original = None
        if isinstance(reply, dict) and reply.get("message_id") is not None:
            target = reply.get("chat_id", chat["id"])
            original = bot.messages.get((target, as_int(reply["message_id"])))
            allow_missing = reply.get("allow_sending_without_reply") or p.get("allow_sending_without_reply")
            if original is None and not allow_missing:
                raise ApiError(400, "Bad Request: message to be replied not found")
        msg = self._new_message(bot, chat, bot.user)
        if p.get("message_thread_id") is not None:
            msg["message_thread_id"] = p["message_thread_id"]
        if original is not None:
            msg["reply_to_message"] = strip_reply(original)
        if media_group_id:
            msg["media_group_id"] = media_group_id
        msg.update(content)
        if markup is not None:
            msg["reply_markup"] = markup
        if p.get("protect_content"):
            msg["has_protected_content"] = True
        self._store(bot, msg)
        return msg

    def _api_sendMessage(self, r: Request) -> dict:
        return self._bot_message(r, self._formatted(r.params, "text", "entities", 4096, True))

    def _api_sendLocation(self, r: Request) -> dict:
        p = r.params
        loc = {"latitude": float(require_param(p, "latitude")), "longitude": float(require_param(p, "longitude"))}
        for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if p.get(key) is not None:
                loc[key] = p[key]
        return self._bot_message(r, {"location": loc})

    def _api_sendVenue(self, r: Request) -> dict:
        p = r.params
        loc = {"latitude": float(require_param(p, "latitude")), "longitude": float(require_param(p, "longitude"))}
        venue: dict[str, Any] = {"location": loc, "title": str(require_param(p, "title")),
                                 "address": str(require_param(p, "address"))}
        for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if p.get(key):
                venue[key] = p[key]
        return self._bot_message(r, {"venue": venue, "location": dict(loc)})

    def _api_sendContact(self, r: Request) -> dict:
        p = r.params
        contact = {"phone_number": str(require_param(p, "phone_number")),
                   "first_name": str(require_param(p, "first_name"))}
        for key in ("last_name", "vcard", "user_id"):
            if p.get(key):
                contact[key] = p[key]
        return self._bot_message(r, {"contact": contact})

    def _api_sendChatAction(self, r: Request) -> bool:
        self._resolve_chat(r.bot, r.params.get("chat_id"))
        require_param(r.params, "action")
        return True

    # -- media (sendDocument, sendPhoto ... are _send_media with a kind: see MEDIA_METHODS)
    def _media_input(self, r: Request, kind: str, value: Any = UNSET) -> StoredFile:
        """Resolve an uploaded part, attach:// reference, known file_id or URL to a StoredFile."""
        folder, default_mime = MEDIA_KINDS[kind]
        if value is UNSET:
            value = r.params.get(kind)
        upload = r.files.get(kind) if value is None else None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = r.files.get(value[len("attach://"):])
            if upload is None:
                raise ApiError(400, f"Bad Request: file {value} not found in the request")
        if upload is not None:
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(upload.filename or "")[0] or default_mime
            return self.add_file(upload.data, mime_type=mime, file_name=upload.filename, kind=folder)
        if isinstance(value, str) and value:
            if value in self._files:
                return self._files[value]
            if value.startswith(("http://", "https://")):
                name = value.rstrip("/").rsplit("/", 1)[-1] or None
                return self.add_file(b"", mime_type=mimetypes.guess_type(name or "")[0] or default_mime,
                                     file_name=name, kind=folder)
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise ApiError(400, f"Bad Request: there is no {kind} in the request")

    def _send_media(self, r: Request, kind: str) -> dict:
        self._resolve_chat(r.bot, r.params.get("chat_id"))  # chat errors before upload errors
        rec = self._media_input(r, kind)
        content: dict[str, Any] = {kind: self._media_object(kind, rec, r.params)}
        if kind == "photo":
            content["photo"][0].update(self.add_file(rec.data, mime_type=rec.mime_type, kind="photos").meta())
        if kind == "animation":
            content["document"] = self._media_object("document", rec)
        if kind not in ("sticker", "video_note"):
            content.update(self._formatted(r.params, "caption", "caption_entities", 1024, False))
        return self._bot_message(r, content)

    def _api_sendMediaGroup(self, r: Request) -> list[dict]:
        media = r.params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media specified; must be between 2 and 10")
        self._resolve_chat(r.bot, r.params.get("chat_id"))
        group_id = str(13_000_000_000_000_000 + next(self._ids))
        out = []
        for item in media:
            kind = item.get("type")
            if kind not in ("photo", "video", "audio", "document"):
                raise ApiError(400, "Bad Request: unsupported media type in media group")
            rec = self._media_input(r, kind, item.get("media"))
            content = {kind: self._media_object(kind, rec, item)}
            content.update(self._formatted(item, "caption", "caption_entities", 1024, False))
            out.append(self._bot_message(r, content, media_group_id=group_id))
        return out

    # -- forwarding
    def _source(self, r: Request, verb: str) -> tuple[dict, dict, dict]:
        """(chat, message, its content) that forwardMessage/copyMessage take from."""
        source_chat = self._resolve_chat(r.bot, r.params.get("from_chat_id"))
        src = r.bot.messages.get((source_chat["id"], as_int(r.params.get("message_id"))))
        if src is None:
            raise ApiError(400, f"Bad Request: message to {verb} not found")
        return source_chat, src, {k: copy.deepcopy(v) for k, v in src.items() if k not in MESSAGE_META}

    def _api_forwardMessage(self, r: Request) -> dict:
        source_chat, src, content = self._source(r, "forward")
        origin = {"type": "user", "sender_user": src.get("from"), "date": src["date"]}
        if source_chat["type"] == "channel":
            origin = {"type": "channel", "chat": source_chat, "message_id": src["message_id"], "date": src["date"]}
        content["forward_origin"] = origin
        return self._bot_message(r, content)

    def _api_copyMessage(self, r: Request) -> dict:
        p = r.params
        _, _, content = self._source(r, "copy")
        if p.get("caption") is not None:
            content.pop("caption_entities", None)
            content.update(self._formatted(p, "caption", "caption_entities", 1024, False))
        msg = self._bot_message(r, content)
        return {"message_id": msg["message_id"]}
