"""Any text is a question: engine in, answer with its source and buttons out.

A message is read against the recent turns of its conversation (one per private
chat, one per user in a group), so "那富阳呢" after "临平读大专有补贴吗" is a
follow-up; an edited message is answered again, and a photo or file whose
caption is a question is answered from the caption.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from knowledge.answer import Answer, Suggestion
from knowledge.engine import AnswerEngine

from . import callbacks as cb
from . import render
from .addressing import strip_mention
from .common import answer_callback
from .services import Answered, services

log = logging.getLogger("bot.questions")
MAX_QUESTION_CHARS = 300      # the engine needs a sentence, not an essay; longer texts are cut with a note
RENDERED_CACHE = 2048
_RENDERED: OrderedDict[tuple, tuple] = OrderedDict()
ADMIN_DRAFT = "admin_draft"   # handlers.admin.common.DRAFT: an admin's guided edit is in progress


def conversation_key(update: Update) -> str | None:
    """Whose conversation a message continues: the private chat, or this user in a group."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return None
    if chat.type == ChatType.PRIVATE or user is None:
        return str(chat.id)
    return f"{chat.id}:{user.id}"


def _question_text(text: str, username: str | None) -> tuple[str, str | None]:
    text = strip_mention(text, username)      # "@bot 体检" -> "体检"
    if len(text) > MAX_QUESTION_CHARS:
        return text[:MAX_QUESTION_CHARS], render.LONG_NOTE
    return text, None


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    text, note = _question_text(message.text or "", context.bot.username)
    user = update.effective_user
    await reply_with_answer(update, context, text, user.id if user else None, note)


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited question is answered again, as a reply to the edited message."""
    if context.user_data is not None and context.user_data.get(ADMIN_DRAFT) is not None:
        return        # an admin correcting a reply in a guided edit: not a question
    await question(update, context)


async def captioned(update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str) -> None:
    """A photo or file with a question as its caption: answered from the caption, saying the
    picture or file itself was not read."""
    message = update.effective_message
    text, note = _question_text(message.caption or "", context.bot.username)
    user = update.effective_user
    notes = [render.caption_note(kind)] + ([note] if note else [])
    await reply_with_answer(update, context, text, user.id if user else None, "\n".join(notes))


async def reply_with_answer(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
                            user_id: int | None, note: str | None = None) -> Message:
    t0 = time.perf_counter()
    svc = services(context)
    district = await svc.district_of(user_id)
    conversation = conversation_key(update)
    result = await svc.ask(text, district, user_id, conversation=conversation)
    sent = await _send(update, context, result, note, district is not None)
    svc.remember_turn(conversation, result)
    _log(update, result, district, t0)
    return sent


def related_for(answer: Answer, engine: AnswerEngine, limit: int = 3) -> list[Suggestion]:
    """Related-question buttons: same topic only, the answer's own district first, then general
    entries; never another district's programme or an unrelated topic to fill the row."""
    entry = engine.by_id.get(answer.faq_id or "")
    if entry is None:
        return list(answer.related[:limit])
    district = answer.district or entry.district

    def fits(other) -> bool:
        return (other is not None and other.id != entry.id and other.category == entry.category
                and (district is None or other.district in (None, district)))

    chosen = {s.faq_id: s for s in answer.related if fits(engine.by_id.get(s.faq_id))}
    if len(chosen) < limit:
        for other in engine.entries_in(entry.category, district):
            if fits(other) and other.id not in chosen:
                chosen[other.id] = Suggestion(other.id, other.question, other.district)
    picked = sorted(chosen.values(), key=lambda s: district is not None and s.district != district)
    return picked[:limit]


def _rendered(answer: Answer, engine: AnswerEngine, note: str | None, district_chosen: bool):
    """Text and keyboard of an answer; cached with it, as the answer cache hands out the same objects."""
    if note is not None:
        return (render.answer_text(answer, note, district_chosen=district_chosen),
                render.answer_keyboard(answer, related_for(answer, engine)))
    key = (id(answer), district_chosen)
    hit = _RENDERED.get(key)
    if hit is None or hit[0] is not answer:
        hit = _RENDERED[key] = (answer, render.answer_text(answer, district_chosen=district_chosen),
                                render.answer_keyboard(answer, related_for(answer, engine)))
        while len(_RENDERED) > RENDERED_CACHE:
            _RENDERED.popitem(last=False)
    return hit[1], hit[2]


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, result: Answered, note: str | None,
                district_chosen: bool = False) -> Message:
    message = update.effective_message
    svc = services(context)
    text, markup = _rendered(result.answer, await svc.engine(), note, district_chosen)
    in_group = update.effective_chat is not None and update.effective_chat.type != ChatType.PRIVATE
    if message is not None and update.callback_query is None:
        quote = in_group or update.edited_message is not None     # an edit: show which message is answered
        sent = await message.reply_text(text, reply_markup=markup, do_quote=quote)
    else:
        sent = await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)
    if result.answer.matched:
        svc.remember_reply(sent.chat_id, sent.message_id, result)
    return sent


def _log(update: Update, result: Answered, stored_district: str | None, t0: float) -> None:
    a = result.answer
    user = update.effective_user
    chat = update.effective_chat
    log.info("question user=%s chat_type=%s district=%s answer_district=%s matched=%s kind=%s faq_id=%s "
             "score=%.1f engine_ms=%.1f latency_ms=%.1f turns=%d continued=%s",
             user.id if user else None, chat.type if chat else None, stored_district, a.district, a.matched,
             a.kind, a.faq_id, a.score, result.engine_ms, (time.perf_counter() - t0) * 1000, len(result.history),
             bool(a.continued))


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
    conversation = conversation_key(update)
    result = await svc.open_entry(faq_id, district, query.from_user.id, conversation) if faq_id else None
    if result is None:
        await answer_callback(query, "这个问题已更新或下线，请重新提问。")
        return
    await answer_callback(query)
    await _send(update, context, result, None, district is not None)
    svc.remember_turn(conversation, result)
    _log(update, result, district, t0)
