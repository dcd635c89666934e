"""👍/👎 under an answer: one vote per user and answer message, a second tap changes it.

The vote keeps the question that was asked (so /unanswered can list disliked
answers with it). In a private chat the chosen button gets a tick; in a group
the buttons stay as they are, since everyone may vote on the same answer.
"""
from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from knowledge.answer import HOTLINE

from . import callbacks as cb
from . import render
from .addressing import strip_mention
from .common import answer_callback
from .services import services

log = logging.getLogger(__name__)


def _toast(helpful: bool, before: bool | None) -> str:
    if before is None:
        return "谢谢您的反馈！" if helpful else f"谢谢反馈，我们会改进。也可拨打{HOTLINE}咨询。"
    if before == helpful:
        return f"您已经评价过了（{render.VOTE_LABELS[helpful]}），再点另一个按钮可以改。"
    return f"已改为：{render.VOTE_LABELS[helpful]}"


async def feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, args = cb.parse(query.data)
    message = query.message
    if len(args) != 2 or args[0] not in ("0", "1") or message is None:
        await answer_callback(query, "这个按钮已失效。")
        return
    helpful, ref = args[0] == "1", args[1]
    svc = services(context)
    query_id = await svc.query_id_of(message.chat.id, message.message_id)
    faq_id = None
    if ref != "-":
        engine = await svc.engine()
        faq_id = cb.table_for("faq", engine.version, engine, engine.by_id).resolve(ref)
    asked = getattr(message, "reply_to_message", None)          # in groups an answer quotes the question
    quoted = strip_mention(asked.text or asked.caption or "", context.bot.username) if asked else None
    before = await svc.vote(query.from_user.id, message.chat.id, message.message_id, helpful, faq_id, query_id,
                            getattr(message, "date", None), quoted or None)
    log.info("feedback user=%s faq_id=%s helpful=%s query_id=%s changed=%s", query.from_user.id, faq_id, helpful,
             query_id, before is not None and before != helpful)
    await answer_callback(query, _toast(helpful, before))
    private = message.chat.type == ChatType.PRIVATE
    markup = getattr(message, "reply_markup", None)
    if private and markup is not None and before != helpful:
        try:
            await query.edit_message_reply_markup(render.with_vote(markup, helpful))
        except BadRequest as exc:
            log.info("feedback buttons not updated: %s", exc.message)
