"""/start, /district, /help, /about: who the bot is for and which district the user is in."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from knowledge.districts import DISTRICTS, canonical_district

from . import callbacks as cb
from . import render
from .common import answer_callback, edit_or_send
from .questions import conversation_key
from .services import services


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The welcome; also the start of a new conversation (earlier questions no longer count)."""
    svc = services(context)
    user = update.effective_user
    conversation = conversation_key(update)
    if conversation:
        svc.forget_conversation(conversation)
    current = await svc.district_of(user.id if user else None)
    engine = await svc.engine()
    await update.effective_message.reply_text(render.welcome_text(engine.documents, current),
                                              reply_markup=render.district_keyboard(current))


async def district(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/district shows the choice; /district 临平 sets it directly."""
    svc = services(context)
    user = update.effective_user
    message = update.effective_message
    arg = " ".join(context.args or []).strip()
    if arg and user:
        name = canonical_district(arg)
        if arg in ("不限", "不限区县", "全部", "清除"):
            await svc.set_district(user.id, None)
            await message.reply_text("已设为不限区县：通用问题会列出各区的说法。")
            return
        if name is None:
            known = "、".join(d.name for d in DISTRICTS)
            await message.reply_text(f"我不认识“{render.clip(arg, 20)}”。目前只有这些区县的资料：{known}。",
                                     reply_markup=render.district_keyboard(await svc.district_of(user.id)))
            return
        await svc.set_district(user.id, name)
        await message.reply_text(_chosen_text(name))
        return
    current = await svc.district_of(user.id if user else None)
    shown = current or "不限区县"
    await message.reply_text(f"当前区县：{shown}。请选择您所在的区县：", reply_markup=render.district_keyboard(current))


def _chosen_text(name: str | None) -> str:
    if name is None:
        return "好的，不限区县。通用问题我会列出各区的说法；问题里带上区名（如“临平 体检”）就按该区回答。"
    return f"已设置区县：{name}。现在可以直接提问了，例如“医疗互助怎么参加”。问题里带上别的区名时按那个区回答。"


async def district_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, args = cb.parse(query.data)
    ok, name = cb.district_from(args[0] if args else "")
    if not ok:
        await answer_callback(query, "这个按钮已失效，请重新发送 /district")
        return
    await services(context).set_district(query.from_user.id, name)
    await answer_callback(query, f"已保存：{name or '不限区县'}")
    await edit_or_send(update, context, _chosen_text(name), None)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(render.help_text(context.bot.username))


async def about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    engine = await services(context).engine()
    await update.effective_message.reply_text(render.about_text(engine.documents))
