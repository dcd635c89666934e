"""python-telegram-bot persistence on our database: an admin's guided edit survives a restart.

Why: without it a restart in the middle of "➕ 新增条目" forgot the draft and the
step, and the admin's next reply (an answer text, say) was taken for a worker's
question. Only what the admin tools keep per user (the draft and the listed
unanswered questions) and the admin conversation's step are stored, as JSON in
bot_persistence (through bot.repositories); workers leave nothing here. A row
is written only when its content changed, and right after each admin update
(flush_after_admin_update), so a crash loses at most the step in progress.

A draft older than the admin time-out when the bot starts again is dropped
(the time-out job does not survive a restart), and so is a stored step whose
draft is missing; either way the admin is told at their next message
(lost_draft_notice) instead of having it answered as a question.
"""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from typing import Any

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BasePersistence, ContextTypes, PersistenceInput

from bot.state_repositories import PersistenceRepository

log = logging.getLogger("bot.persistence")
USER_DATA = "user_data"
KEPT_KEYS = ("admin_draft", "admin_unanswered")     # handlers.admin.common.DRAFT, UNANSWERED
DRAFT = KEPT_KEYS[0]
SAVED_AT = "at"                                     # a draft's last prompt (handlers.admin.common.prompt)
LOST = {"expired": "⏰ 机器人重启期间，您未完成的编辑已超时，没有保存任何修改。发送 /admin 重新开始。",
        "lost": "⚠️ 机器人重启过，您未完成的编辑没能恢复，没有保存任何修改。发送 /admin 重新开始。"}


def _encode(value: Any) -> Any:
    """JSON for what the drafts hold: bytes (an uploaded document) and tuples too."""
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__bytes__"}:
            return base64.b64decode(value["__bytes__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class DatabasePersistence(BasePersistence):
    """user_data (the admin keys only) and conversation states, in the database."""

    def __init__(self, repo: PersistenceRepository, draft_timeout: float | None, update_interval: float = 5.0):
        super().__init__(store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True,
                                                     callback_data=False), update_interval=update_interval)
        self.repo = repo
        self.draft_timeout = draft_timeout
        self.lost: dict[int, str] = {}            # user -> "expired" | "lost", told at their next message
        self._stored: dict[str, str] = {}         # "<kind>/<key>" -> JSON last written (skip unchanged)
        self._drafts: set[int] = set()            # users whose stored data held a live draft at start-up

    # ------------------------------------------------------------ writing
    async def _save(self, kind: str, items: dict[str, dict | None]) -> None:
        changed: dict[str, dict | None] = {}
        for key, data in items.items():
            marker = f"{kind}/{key}"
            text = None if data is None else json.dumps(data, sort_keys=True, ensure_ascii=False)
            if self._stored.get(marker) == text:
                continue
            changed[key] = data
            if text is None:
                self._stored.pop(marker, None)
            else:
                self._stored[marker] = text
        if changed:
            await asyncio.to_thread(self.repo.save, kind, changed)

    def has_stored(self, user_id: int) -> bool:
        return f"{USER_DATA}/{user_id}" in self._stored

    async def update_user_data(self, user_id: int, data: dict) -> None:
        kept = {k: data[k] for k in KEPT_KEYS if data.get(k) is not None}
        await self._save(USER_DATA, {str(user_id): _encode(kept) if kept else None})

    async def update_conversation(self, name: str, key: tuple, new_state: object | None) -> None:
        stored = None if new_state is None else {"state": new_state}
        await self._save(f"conversation:{name}", {json.dumps(list(key)): stored})

    async def drop_user_data(self, user_id: int) -> None:
        await self._save(USER_DATA, {str(user_id): None})

    # ------------------------------------------------------------ reading (at start-up)
    async def get_user_data(self) -> dict[int, dict]:
        rows = await asyncio.to_thread(self.repo.load, USER_DATA)
        out: dict[int, dict] = {}
        now = time.time()
        for key, raw in rows.items():
            self._stored[f"{USER_DATA}/{key}"] = json.dumps(raw, sort_keys=True, ensure_ascii=False)
            data = _decode(raw)
            user_id = int(key)
            draft = data.get(DRAFT)
            if isinstance(draft, dict):
                if self.draft_timeout and now - float(draft.get(SAVED_AT) or 0) > self.draft_timeout:
                    del data[DRAFT]
                    self.lost[user_id] = "expired"
                    await self.update_user_data(user_id, data)
                else:
                    self._drafts.add(user_id)
            out[user_id] = data
        return out

    async def get_conversations(self, name: str) -> dict:
        kind = f"conversation:{name}"
        rows = await asyncio.to_thread(self.repo.load, kind)
        out = {}
        for key, raw in rows.items():
            self._stored[f"{kind}/{key}"] = json.dumps(raw, sort_keys=True, ensure_ascii=False)
            conversation = tuple(json.loads(key))
            user_id = int(conversation[-1])
            if user_id in self._drafts:
                out[conversation] = raw.get("state")
                continue
            self.lost.setdefault(user_id, "lost")      # a step without its draft cannot go on
            await self._save(kind, {key: None})
        return out

    async def get_chat_data(self) -> dict:
        return {}

    async def get_bot_data(self) -> dict:
        return {}

    async def get_callback_data(self) -> None:
        return None

    # ------------------------------------------------------------ not stored
    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        pass

    async def update_bot_data(self, data: dict) -> None:
        pass

    async def update_callback_data(self, data) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict) -> None:
        pass

    async def flush(self) -> None:
        pass


def _persistence(context: ContextTypes.DEFAULT_TYPE) -> DatabasePersistence | None:
    found = context.application.persistence
    return found if isinstance(found, DatabasePersistence) else None


async def lost_draft_notice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Before anything else: an admin whose draft did not survive a restart is told so, and a plain text
    (the reply meant for the lost step) is not answered as a worker's question."""
    persistence = _persistence(context)
    user = update.effective_user
    if persistence is None or user is None or not persistence.lost or user.id not in persistence.lost:
        return
    reason = persistence.lost.pop(user.id)
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return
    await context.bot.send_message(chat.id, LOST[reason])
    message = update.message
    if message is not None and message.text and not message.text.startswith("/"):
        raise ApplicationHandlerStop


async def flush_after_admin_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """After the handlers: an admin's draft or step that changed is written at once, not a few seconds
    later, so a crash right after a reply loses at most that reply. Workers cost nothing here."""
    persistence = _persistence(context)
    user = update.effective_user if isinstance(update, Update) else None
    if persistence is None or user is None:
        return
    if (context.user_data or {}).get(DRAFT) is None and not persistence.has_stored(user.id):
        return
    await context.application.update_persistence()


def stamped(draft: dict) -> dict:
    """The draft with the time of its latest prompt (how a restart tells a stale draft)."""
    draft[SAVED_AT] = time.time()
    return draft


__all__ = ["DatabasePersistence", "flush_after_admin_update", "lost_draft_notice", "stamped"]
