"""The server's state: hosted bots, users, chats, stored messages and files, under one lock.

Why one lock: API methods are small and run under it; long-polling getUpdates and the
tests' wait_for sleep on its condition, so an update or a recorded call wakes them at once.
"""

from __future__ import annotations

import copy
import itertools
import mimetypes
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from .records import ApiError, BotState, Call, StoredFile, bot_id_from_token, strip_reply

GROUP_DEFAULT_IDS = {"group": -100200300, "supergroup": -1001002003004, "channel": -1001002003005}


class ServerState:
    """Bots, users, chats, messages and files; every other part of LocalBotApi works on these."""

    def __init__(self, *, strict_formatting: bool = True):
        self.strict_formatting = strict_formatting
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._bots: dict[str, BotState] = {}
        self._default_token: str | None = None
        self._users: dict[int, dict] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._calls: list[Call] = []          # the recorder (testing/recorder.py)
        self._call_seq = 0
        self._listeners: list[Callable[[], None]] = []   # async waiters to wake
        self._injections: list = []           # failures queued by fail_next
        self._fault_plans: dict = {}          # random faults by inject_faults: (method, token) -> FaultPlan
        self._ids = itertools.count(1)
        self._stopping = False

    @property
    def token(self) -> str:
        """The default (first) bot token."""
        assert self._default_token is not None
        return self._default_token

    @property
    def tokens(self) -> list[str]:
        return list(self._bots)

    # ------------------------------------------------------------------ bots
    def add_bot(self, token: str, *, username: str | None = None, first_name: str = "Local Test Bot") -> dict:
        """Host another bot token on this server; returns its getMe user object."""
        with self._lock:
            if token in self._bots:
                return dict(self._bots[token].user)
            bot_id = bot_id_from_token(token)
            user = {
                "id": bot_id,
                "is_bot": True,
                "first_name": first_name,
                "username": username or f"local_{bot_id}_bot",
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": True,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
            self._bots[token] = BotState(token, user)
            if self._default_token is None:
                self._default_token = token
            return dict(user)

    def bot_user(self, token: str | None = None) -> dict:
        """The bot's own User object (as returned by getMe)."""
        with self._lock:
            return dict(self._bot(token).user)

    @property
    def bot_username(self) -> str:
        return self.bot_user()["username"]

    def _bot(self, token: str | None) -> BotState:
        try:
            return self._bots[token or self.token]
        except KeyError:
            raise ValueError(f"unknown bot token {token!r}") from None

    # ------------------------------------------------------------------ users/chats/messages
    def _user(self, user_id: int, username=None, first_name=None, last_name=None, language_code=None) -> dict:
        user = self._users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "username": f"user{user_id}",
                    "language_code": "en"}
            self._users[user_id] = user
        for key, value in (("username", username), ("first_name", first_name), ("last_name", last_name),
                           ("language_code", language_code)):
            if value == "":
                user.pop(key, None)
            elif value is not None:
                user[key] = value
        return dict(user)

    def _chat_for_push(self, bot: BotState, user: dict, chat_id, chat_type: str, title) -> dict:
        if chat_type == "private":
            cid = user["id"] if chat_id is None else chat_id
            chat = {"id": cid, "type": "private", "first_name": user.get("first_name", "")}
            for key in ("last_name", "username"):
                if key in user:
                    chat[key] = user[key]
        else:
            if chat_type not in GROUP_DEFAULT_IDS:
                raise ValueError(f"unsupported chat_type {chat_type!r}")
            cid = GROUP_DEFAULT_IDS[chat_type] if chat_id is None else chat_id
            known = bot.chats.get(cid, {})
            chat = {"id": cid, "type": chat_type, "title": title or known.get("title") or "Test Group"}
            if "username" in known:
                chat["username"] = known["username"]
        bot.chats[cid] = chat
        return dict(chat)

    def _resolve_chat(self, bot: BotState, chat_id: Any) -> dict:
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str):
            if chat_id.lstrip("-").isdigit():
                chat_id = int(chat_id)
            else:
                name = chat_id.lstrip("@").lower()
                for chat in bot.chats.values():
                    if str(chat.get("username", "")).lower() == name:
                        return chat
                raise ApiError(400, "Bad Request: chat not found")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise ApiError(400, "Bad Request: chat not found")
        chat = bot.chats.get(chat_id)
        if chat is None:  # lenient: bots may message users the test never pushed
            if chat_id > 0:
                user = self._users.get(chat_id, {"first_name": f"User{chat_id}"})
                chat = {"id": chat_id, "type": "private", "first_name": user.get("first_name", "")}
                if "username" in user:
                    chat["username"] = user["username"]
            else:
                kind = "supergroup" if str(chat_id).startswith("-100") else "group"
                chat = {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
            bot.chats[chat_id] = chat
        return chat

    def _new_message(self, bot: BotState, chat: dict, sender: dict, date: int | None = None) -> dict:
        cid = chat["id"]
        mid = bot.msg_counter.get(cid, 0) + 1
        bot.msg_counter[cid] = mid
        return {"message_id": mid, "from": sender, "chat": dict(chat), "date": int(date or time.time())}

    def _store(self, bot: BotState, msg: dict) -> None:
        bot.messages[(msg["chat"]["id"], msg["message_id"])] = copy.deepcopy(msg)

    def _lookup_message(self, bot: BotState, ref: Any, chat_id: int | None) -> dict:
        """Resolve a message reference (dict, Call, update dict or message_id) to its stored state."""
        if isinstance(ref, Call):
            ref = ref.result
        if isinstance(ref, dict) and "update_id" in ref:
            ref = ref.get("message") or ref.get("edited_message") or ref
        if isinstance(ref, dict):
            stored = bot.messages.get((ref["chat"]["id"], ref["message_id"]))
            return strip_reply(stored if stored is not None else ref)
        if isinstance(ref, int) and chat_id is not None:
            stored = bot.messages.get((chat_id, ref))
            if stored is not None:
                return strip_reply(stored)
        raise ValueError(f"unknown message reference {ref!r} (chat {chat_id})")

    # ------------------------------------------------------------------ files
    def add_file(self, content: bytes, *, mime_type: str = "application/octet-stream",
                 file_name: str | None = None, kind: str = "documents") -> StoredFile:
        """Register bytes the bot can fetch with getFile + download."""
        with self._lock:
            n = next(self._ids)
            ext = ""
            if file_name and "." in file_name:
                ext = "." + file_name.rsplit(".", 1)[1]
            elif mime_type:
                ext = mimetypes.guess_extension(mime_type) or ""
            tag = secrets.token_hex(4)
            rec = StoredFile(
                file_id=f"LBA{kind[:3].upper()}{n:06d}{tag}",
                file_unique_id=f"U{n:06d}{tag}",
                # unique path: PTB treats an *existing local* relative path as a local file
                file_path=f"{kind}/file_{n}_{tag}{ext}",
                data=bytes(content),
                mime_type=mime_type or "application/octet-stream",
                file_name=file_name,
            )
            self._files[rec.file_id] = rec
            self._files_by_path[rec.file_path] = rec
            return rec

    def file_bytes(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id].data

    @staticmethod
    def _media_object(kind: str, rec: StoredFile, p: dict | None = None) -> Any:
        """Telegram media object for a stored file (what appears in Message.<kind>)."""
        p = p or {}
        base = rec.meta()
        if kind == "photo":
            w, h = int(p.get("width", 1280)), int(p.get("height", 960))
            # callers swap in a separately registered thumbnail file for the small size
            return [dict(base, width=max(1, w // 16), height=max(1, h // 16)), dict(base, width=w, height=h)]
        if kind == "sticker":
            out = dict(base, type="regular", width=512, height=512, is_animated=False, is_video=False)
            for key in ("emoji", "set_name"):
                if p.get(key):
                    out[key] = p[key]
            return out
        out = dict(base, mime_type=rec.mime_type)
        if rec.file_name and kind in ("document", "audio", "video", "animation"):
            out["file_name"] = rec.file_name
        if kind in ("audio", "voice", "video", "animation", "video_note"):
            out["duration"] = int(p.get("duration") or 1)
        if kind in ("video", "animation"):
            out["width"], out["height"] = int(p.get("width") or 640), int(p.get("height") or 480)
        if kind == "video_note":
            out["length"] = int(p.get("length") or 240)
            out.pop("mime_type", None)
        if kind == "audio":
            for key in ("title", "performer"):
                if p.get(key):
                    out[key] = p[key]
        return out
