"""👍/👎 under an answer: recorded (tied to the logged question while this process remembers the
answer), then the buttons go away."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from . import callbacks as cb
from . import render
from .common import answer_callback
from .services import services

log = logging.getLogger(__name__)


async def feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, args = cb.parse(query.data)
    if len(args) != 2 or args[0] not in ("0", "1"):
        await answer_callback(query, "这个按钮已失效。")
        return
    helpful, ref = args[0] == "1", args[1]
    svc = services(context)
    message = query.message
    query_id = await svc.query_id_of(message.chat.id, message.message_id) if message is not None else None
    faq_id = None
    if ref != "-":
        engine = await svc.engine()
        faq_id = cb.table_for("faq", engine.version, engine, engine.by_id).resolve(ref)
    await svc.record_feedback(query.from_user.id, faq_id, None, helpful, query_id)
    log.info("feedback user=%s faq_id=%s helpful=%s query_id=%s", query.from_user.id, faq_id, helpful, query_id)
    await answer_callback(query, "谢谢您的反馈！" if helpful else "谢谢反馈，我们会改进。也可拨打12351咨询。")
    if message is not None and getattr(message, "reply_markup", None) is not None:
        try:
            await query.edit_message_reply_markup(render.without_feedback(message.reply_markup))
        except BadRequest as exc:
            log.info("feedback buttons not removed: %s", exc.message)
