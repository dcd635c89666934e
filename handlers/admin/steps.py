"""Guided edits: a flow asks for one field at a time, checks each reply, then shows a preview.

Why one mechanism: adding or changing an entry, a station, a document or an admin is
the same exchange (ask, check the reply, store it, ask the next question, preview,
confirm). A flow only describes its steps; this module runs them and makes their
conversation states, so a new field is a few lines of description, not more handlers.

A step (Step) says: the prompt (``ask``), the replies it takes (``replies``: a text, a
location or a button, each with a ``read`` that turns it into a value or raises Retry),
the value it fills (``fill``) and, optionally, a step asked right after it (``then``).
The draft (common.draft) holds the values and the queue of steps still to ask; when
the queue is empty the flow's ``preview`` is shown, and its buttons confirm or change
one field (``Flow.fix``).
"""
from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from handlers import callbacks as cb
from handlers.addressing import NEW_MESSAGE
from handlers.common import answer_callback
from knowledge.districts import canonical_district

from . import views
from .auth import admin_only
from .common import CONFIRM, END, PREFIX, draft, new_draft, parse, prompt, send

Context = ContextTypes.DEFAULT_TYPE
Prompt = str | tuple[str, InlineKeyboardMarkup | None]
Ask = Prompt | Callable[[Context, dict], Prompt | Awaitable[Prompt]]

TEXT_REPLY = NEW_MESSAGE & filters.TEXT & ~filters.COMMAND
PREVIEW_PROMPT = "请点预览下面的按钮：确认保存、取消，或修改某一项。"
DRAFT_GONE = "这次编辑的内容已经找不到了（机器人可能重启过），没有保存任何修改。发送 /admin 重新开始。"


class Retry(Exception):
    """A reply the step cannot use: ``reply`` tells the admin why (None: say nothing); the step stays."""

    def __init__(self, reply: str | None = None):
        super().__init__(reply)
        self.reply = reply


@dataclass(frozen=True)
class Reply:
    """One way to answer a step: a text message, a shared location, or a button ("ad:<verb>:...")."""

    kind: str                                   # "text", "location" or "button"
    read: Callable[[Any, dict], Any]            # (stripped text | Location | button args, draft) -> value
    pattern: str = ""                           # buttons: the callback data this reply takes
    toast: Callable[[Any], str | None] | None = None   # buttons: the toast once the value is taken


def typed(read: Callable[[str, dict], Any]) -> Reply:
    """A text message (stripped) as the reply."""
    return Reply("text", read)


def located(read: Callable[[Any, dict], Any]) -> Reply:
    """A shared location (telegram.Location) as the reply."""
    return Reply("location", read)


def pressed(verb: str, read: Callable[[list[str], dict], Any], toast: Callable[[Any], str | None] | None = None,
           *, with_args: bool = True) -> Reply:
    """A button "ad:<verb>:<args>" (or exactly "ad:<verb>" when ``with_args`` is False)."""
    pattern = rf"^{PREFIX}:{verb}:" if with_args else rf"^{PREFIX}:{verb}$"
    return Reply("button", read, pattern, toast)


@dataclass(frozen=True)
class Step:
    """One question of a guided edit."""

    key: str                        # its letter in "ad:e:<key>:<ref>" / "ad:pf:<key>"
    state: str                      # the conversation state while it waits for a reply
    ask: Ask                        # the prompt: text or (text, keyboard), or a (maybe async) function of
                                    # (context, draft) giving one
    replies: tuple[Reply, ...]
    fill: str | Callable[[dict, Any], None]   # the value it sets in the flow's values, or fill(draft, value)
    then: str | None = None         # a step asked right after this one, before the queue goes on
    queued: bool = True             # False: only asked as another step's ``then`` (no edit/fix of its own)


def _as_prompt(asked: Prompt) -> tuple[str, InlineKeyboardMarkup | None]:
    return (asked, None) if isinstance(asked, str) else asked


@dataclass(frozen=True)
class Flow:
    """A guided edit: its steps in order, where their values live, and its preview."""

    kind: str                                   # the draft's "kind" ("entry", "station", ...)
    steps: tuple[Step, ...]
    preview: Callable[[Update, Context], Awaitable[Any]]   # shown when no step is left; returns CONFIRM
    values: str | None = None                   # the draft key holding the values; None: the draft itself
    on_fix: Callable[[dict, str], None] | None = None      # told when the preview's "改…" picks a field

    @property
    def fields(self) -> list[str]:
        """The keys an admin may ask to change (in order: the whole add flow asks them all)."""
        return [s.key for s in self.steps if s.queued]

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)

    # ------------------------------------------------------------ running
    async def start(self, update: Update, context: Context, queue: Iterable[str], *, intro: str | None = None,
                    **values: Any):
        """A new draft that will ask ``queue`` in order (after ``intro``), then preview."""
        new_draft(context, self.kind, queue=list(queue), **values)
        if intro:
            await send(update, context, intro)
        return await self.advance(update, context)

    async def start_edit(self, update: Update, context: Context, load: Callable[[Context, str], Awaitable[Any]],
                         gone: str, values: Callable[[Any, str], dict]):
        """"ad:<verb>:<key>:<ref>": change one field of the item ``load`` finds, then preview."""
        query = update.callback_query
        _, args = parse(query.data)
        key = args[0] if args else ""
        item = await load(context, args[1] if len(args) > 1 else "")
        if item is None or key not in self.fields:
            await answer_callback(query, gone)
            return END
        await answer_callback(query)
        return await self.start(update, context, [key], **values(item, key))

    async def advance(self, update: Update, context: Context):
        """The next queued question, or the preview once every queued field is answered."""
        current = draft(context)
        if current["queue"]:
            return await self.ask(update, context, current["queue"].pop(0))
        return await self.preview(update, context)

    async def ask(self, update: Update, context: Context, key: str):
        step = self.step(key)
        asked = step.ask(context, draft(context)) if callable(step.ask) else step.ask
        if inspect.isawaitable(asked):
            asked = await asked
        await prompt(update, context, *_as_prompt(asked))
        return step.state

    async def fix(self, update: Update, context: Context, key: str):
        """A "改…" button under the preview: ask that field again, then preview again."""
        if key not in self.fields:
            return CONFIRM
        current = draft(context)
        current["queue"] = [key]
        if self.on_fix is not None:
            self.on_fix(current, key)
        return await self.advance(update, context)

    async def _took(self, update: Update, context: Context, step: Step, value: Any):
        current = draft(context)
        if callable(step.fill):
            step.fill(current, value)
        else:
            (current if self.values is None else current[self.values])[step.fill] = value
        if step.then is not None:
            return await self.ask(update, context, step.then)
        return await self.advance(update, context)

    # ------------------------------------------------------------ conversation states
    def _handler(self, step: Step, reply: Reply) -> BaseHandler:
        async def on_message(update: Update, context: Context):
            message = update.effective_message
            if draft(context) is None:            # the step survived a restart, its draft did not
                await message.reply_text(DRAFT_GONE)
                return END
            raw = message.location if reply.kind == "location" else (message.text or "").strip()
            try:
                value = reply.read(raw, draft(context))
            except Retry as exc:
                if exc.reply:
                    await message.reply_text(exc.reply)
                return None
            return await self._took(update, context, step, value)

        async def on_button(update: Update, context: Context):
            query = update.callback_query
            if draft(context) is None:
                await answer_callback(query, DRAFT_GONE)
                return END
            _, args = parse(query.data)
            try:
                value = reply.read(args, draft(context))
            except Retry as exc:
                await answer_callback(query, exc.reply)
                return None
            await answer_callback(query, reply.toast(value) if reply.toast else None)
            return await self._took(update, context, step, value)

        if reply.kind == "button":
            return CallbackQueryHandler(admin_only(on_button), pattern=reply.pattern)
        kind = TEXT_REPLY if reply.kind == "text" else NEW_MESSAGE & filters.LOCATION
        return MessageHandler(kind, admin_only(on_message))

    def states(self) -> dict[str, list[BaseHandler]]:
        """Each step's state with a handler for every reply it takes (for the ConversationHandler)."""
        return {step.state: [self._handler(step, reply) for reply in step.replies] for step in self.steps}


async def send_preview(update: Update, context: Context, text: str, markup: InlineKeyboardMarkup | None,
                       ask: str = PREVIEW_PROMPT):
    """The preview of a finished draft; an odd reply is answered with ``ask``."""
    draft(context)["prompt"] = ask
    await send(update, context, text, markup)
    return CONFIRM


def picked(args: list[str], items: list) -> Any:
    """The item a button's index argument names, or None (a stale or forged button)."""
    if args and args[0].isdigit() and int(args[0]) < len(items):
        return items[int(args[0])]
    return None


def bounded(label: str, most: int) -> Callable[[str, dict], str]:
    """A text reader: 1–``most`` characters, else "<label>应为 1–N 个字，请重新发送："."""
    def read(value: str, _draft: dict) -> str:
        if not value or len(value) > most:
            raise Retry(f"{label}应为 1–{most} 个字，请重新发送：")
        return value
    return read


def choice(verb: str, toast: Callable[[Any], str | None] | None = None) -> Reply:
    """A button "ad:<verb>:<i>" picking item i of the choices the prompt listed (draft["choices"])."""
    def read(args: list[str], current: dict) -> Any:
        item = picked(args, current.get("choices") or [])
        if item is None:
            raise Retry("请重新选择")
        return item
    return pressed(verb, read, toast)


def district_buttons(*, required: bool = False) -> Reply:
    """The district picker (views.district_picker): "ad:pd:<i>", or "ad:pd:x" for 不限区县 unless ``required``."""
    def read(args: list[str], _draft: dict) -> str | None:
        ok, name = cb.district_from(args[0] if args else "")
        if not ok or (required and name is None):
            raise Retry("请选择一个区县" if required else "请重新选择")
        return name
    return pressed("pd", read, lambda name: f"区县：{views.district_label(name)}")


def district_typed(none_words: Collection[str]) -> Reply:
    """A district typed instead of picked ("临平", "临平区"); ``none_words`` mean 不限区县."""
    def read(value: str, _draft: dict) -> str | None:
        name = canonical_district(value)
        if name is None and value not in none_words:
            raise Retry("请点上面的按钮选择区县（或发送“通用”）：")
        return name
    return typed(read)
