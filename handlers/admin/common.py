"""What every admin handler shares: the AdminService, callback data, the draft, replies.

Callback data: "ad:<verb>[:<arg>...]" — one prefix no user-facing button uses
(d: q: f: t: c: s: sd: noop), always within Telegram's 64 bytes; entry and
station ids travel as refs (handlers.callbacks.ref_of: the id, or "#<hash>").

    ad:m[:<item>]          the menu, or one of its items (s n u i x st d t a)
    ad:v|rt|ry|ra|h:<ref>  entry: view, retire?, retire!, re-activate, history
    ad:e:<field>:<ref>     entry: edit one field (q a n d c s)
    ad:rs:<revision>       restore a revision
    ad:ok | ad:no          confirm / cancel the guided step in progress
    ad:pd|pc|ps:<i>        pick a district / category / source document
    ad:pf:<field>          change one field from the preview
    ad:dt                  today's date (new document)
    ad:ua|un:<i>           unanswered group i: as an alternate / as a new entry
    ad:ut:<ref>            the entry that gets the alternate
    ad:sl:<i>|sa|sv|sr|sy  stations: list of a district, add, view, retire?, retire!
    ad:se:<field>:<ref>    station: edit one field (l n a h v d)
    ad:aa | ad:ar|ay:<id>  admins: add, remove?, remove!
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes, ConversationHandler

from bot.admin import AdminService
from handlers import callbacks as cb
from handlers.common import edit_or_send
from handlers.persistence import stamped
from handlers.render import clip, fit
from handlers.services import KEY

log = logging.getLogger("bot.admin")

ADMIN_KEY = "admin_service"
DRAFT = "admin_draft"
UNANSWERED = "admin_unanswered"
PREFIX = "ad"
END = ConversationHandler.END
REFUSAL = "此功能仅限管理员使用。"
STALE = "这个按钮已失效，请发送 /admin 重新开始。"
LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Conversation states (one conversation per admin at a time) besides those of the guided steps,
# which each flow names in its Step list (entries.FLOW, stations.FLOW, documents.FLOW, admins.FLOW).
SEARCH = "search"
CONFIRM = "confirm"
ALT_TARGET = "alt_target"
D_FILE = "d_file"


def admin_service(context: ContextTypes.DEFAULT_TYPE) -> AdminService:
    bot_data = context.application.bot_data
    svc = bot_data.get(ADMIN_KEY)
    if svc is None:
        svc = bot_data[ADMIN_KEY] = AdminService(bot_data[KEY].app)
    return svc


async def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A blocking AdminService call, off the event loop (other users keep being answered)."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def write(context: ContextTypes.DEFAULT_TYPE, fn: Callable[..., Any], *args: Any) -> Any:
    """An AdminService write, off the event loop. AdminService re-indexes at once, and answers are
    cached per knowledge version, so the very next question is answered from the new knowledge."""
    return await run(fn, *args)


async def flush_query_log(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Writes the questions still queued behind replies, so /stats and /unanswered include them."""
    writer = getattr(context.application.bot_data.get(KEY), "writer", None)
    if writer is not None and hasattr(writer, "drain"):
        await writer.drain()


# ---------------------------------------------------------------- callback data
def data(*parts: object) -> str:
    text = ":".join([PREFIX, *(str(p) for p in parts)])
    if len(text.encode("utf-8")) > cb.MAX_BYTES:
        raise ValueError(f"callback data too long: {text!r}")
    return text


def parse(raw: str | None) -> tuple[str, list[str]]:
    """("v", ["<ref>"]) for "ad:v:<ref>"; ("", []) for anything else."""
    parts = (raw or "").split(":")
    if len(parts) < 2 or parts[0] != PREFIX:
        return "", []
    return parts[1], parts[2:]


def button(label: str, *parts: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(clip(label), callback_data=data(*parts))


def keyboard(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup | None:
    rows = [r for r in rows if r]
    return InlineKeyboardMarkup(rows) if rows else None


async def entry_by_ref(context: ContextTypes.DEFAULT_TYPE, ref: str):
    """The entry a button names (retired ones too), or None."""
    svc = admin_service(context)
    if not ref:
        return None
    if not ref.startswith("#"):
        return await run(svc.get, ref)

    def find():
        entry_id = cb.RefTable(svc.entry_ids()).resolve(ref)
        return svc.get(entry_id) if entry_id else None
    return await run(find)


async def station_by_ref(context: ContextTypes.DEFAULT_TYPE, ref: str):
    svc = admin_service(context)
    if not ref:
        return None
    if not ref.startswith("#"):
        return await run(svc.get_station, ref)
    stations = await run(svc.stations, None, True)
    station_id = cb.RefTable(s.id for s in stations).resolve(ref)
    return next((s for s in stations if s.id == station_id), None)


async def search_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> list | None:
    """The entries matching what the admin typed; None (and a note to try other words) if none do."""
    text = (update.effective_message.text or "").strip()[:200]
    found = await run(admin_service(context).search, text, 10)
    if not found:
        await update.effective_message.reply_text("没有找到相关条目，换个关键词再试（发送 /cancel 取消）：")
        return None
    return found


# ---------------------------------------------------------------- the draft of a guided edit
def draft(context: ContextTypes.DEFAULT_TYPE) -> dict | None:
    return context.user_data.get(DRAFT) if context.user_data is not None else None


def new_draft(context: ContextTypes.DEFAULT_TYPE, kind: str, **values: Any) -> dict:
    context.user_data[DRAFT] = stamped({"kind": kind, "queue": [], "prompt": "", **values})
    return context.user_data[DRAFT]


def drop_draft(context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Forgets the guided edit in progress; True if there was one."""
    if context.user_data is None:
        return False
    return context.user_data.pop(DRAFT, None) is not None


# ---------------------------------------------------------------- replies
async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
               markup: InlineKeyboardMarkup | None = None) -> Message:
    """A new message in the admin's chat (prompts, results, views)."""
    return await context.bot.send_message(update.effective_chat.id, fit(text), reply_markup=markup)


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
               markup: InlineKeyboardMarkup | None = None) -> None:
    """Menu navigation: edits the tapped message in place; a command gets a new message."""
    if update.callback_query is not None:
        await edit_or_send(update, context, fit(text), markup)
    else:
        await send(update, context, text, markup)


async def prompt(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
                 markup: InlineKeyboardMarkup | None = None) -> None:
    """Asks the next question of a guided edit (remembered, to repeat it after an odd reply)."""
    current = draft(context)
    if current is not None:
        stamped(current)["prompt"] = text
    await send(update, context, text + "\n（发送 /cancel 可随时取消）", markup)


def user_id(update: Update) -> int:
    return update.effective_user.id


def when(moment: datetime | None) -> str:
    if moment is None:
        return "?"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def describe(update: Update) -> str:
    """What was attempted, for the refusal log: the command, the button data or the file name."""
    if update.callback_query is not None:
        return f"button {update.callback_query.data or ''}"[:100]
    message = update.effective_message
    if message is None:
        return "update"
    if message.document is not None:
        return f"file {message.document.file_name or ''}"[:100]
    if message.text and message.text.startswith("/"):
        return message.text.split()[0][:100]
    return "message"
