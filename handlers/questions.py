"""Any text is a question: engine in, answer with its source and buttons out."""
from __future__ import annotations

import logging
import time
from collections import OrderedDict

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from . import callbacks as cb
from . import render
from .addressing import strip_mention
from .common import answer_callback
from .services import Answered, services

log = logging.getLogger("bot.questions")
MAX_QUESTION_CHARS = 300      # the engine needs a sentence, not an essay; longer texts are cut with a note
RENDERED_CACHE = 2048
_RENDERED: OrderedDict[int, tuple] = OrderedDict()


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    text = strip_mention(message.text or "", context.bot.username)      # "@bot 体检" -> "体检"
    note = None
    if len(text) > MAX_QUESTION_CHARS:
        text, note = text[:MAX_QUESTION_CHARS], render.LONG_NOTE
    user = update.effective_user
    await reply_with_answer(update, context, text, user.id if user else None, note)


async def reply_with_answer(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
                            user_id: int | None, note: str | None = None) -> Message:
    t0 = time.perf_counter()
    svc = services(context)
    district = await svc.district_of(user_id)
    result = await svc.ask(text, district, user_id)
    sent = await _send(update, context, result, note)
    _log(update, result, district, t0)
    return sent


def _rendered(answer, note: str | None):
    """Text and keyboard of an answer; cached with it, as the answer cache hands out the same objects."""
    if note is not None:
        return render.answer_text(answer, note), render.answer_keyboard(answer)
    hit = _RENDERED.get(id(answer))
    if hit is None or hit[0] is not answer:
        hit = _RENDERED[id(answer)] = (answer, render.answer_text(answer), render.answer_keyboard(answer))
        while len(_RENDERED) > RENDERED_CACHE:
            _RENDERED.popitem(last=False)
    return hit[1], hit[2]


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, result: Answered, note: str | None) -> Message:
    message = update.effective_message
    text, markup = _rendered(result.answer, note)
    in_group = update.effective_chat is not None and update.effective_chat.type != ChatType.PRIVATE
    if message is not None and update.callback_query is None:
        sent = await message.reply_text(text, reply_markup=markup, do_quote=in_group)
    else:
        sent = await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)
    if result.answer.matched:
        services(context).remember_reply(sent.chat_id, sent.message_id, result)
    return sent


def _log(update: Update, result: Answered, stored_district: str | None, t0: float) -> None:
    a = result.answer
    user = update.effective_user
    chat = update.effective_chat
    log.info("question user=%s chat_type=%s district=%s answer_district=%s matched=%s kind=%s faq_id=%s "
             "score=%.1f engine_ms=%.1f latency_ms=%.1f",
             user.id if user else None, chat.type if chat else None, stored_district, a.district, a.matched,
             a.kind, a.faq_id, a.score, result.engine_ms, (time.perf_counter() - t0) * 1000)


async def entry_tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A suggestion, related-question or topic button: answer that entry as a new message."""
    t0 = time.perf_counter()
    query = update.callback_query
    _, args = cb.parse(query.data)
    svc = services(context)
    engine = await svc.engine()
    table = cb.table_for("faq", engine.version, engine, engine.by_id)
    faq_id = table.resolve(args[0]) if args else None
    district = await svc.district_of(query.from_user.id)
    result = await svc.open_entry(faq_id, district, query.from_user.id) if faq_id else None
    if result is None:
        await answer_callback(query, "这个问题已更新或下线，请重新提问。")
        return
    await answer_callback(query)
    await _send(update, context, result, None)
    _log(update, result, district, t0)
