"""/admin and the parts every guided edit shares: cancel, time-out, replies that do not fit."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import answer_callback

from . import views
from .auth import admin_only, is_admin
from .common import END, draft, drop_draft, send, show


@admin_only
async def admin_command(update: Update, context: ContextTypes.DEFAULT_TYPE):
    """/admin: the menu (and the end of any guided edit in progress, unsaved)."""
    had = drop_draft(context)
    note = "\n\n（进行中的操作已取消，没有保存。）" if had else ""
    await update.effective_message.reply_text(views.MENU_TEXT + note, reply_markup=views.menu_markup())
    return END


async def show_menu(update: Update, context: ContextTypes.DEFAULT_TYPE, _args=None) -> None:
    await show(update, context, views.MENU_TEXT, views.menu_markup())


@admin_only
async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE):
    """/cancel or the ✖️ 取消 button, at any step."""
    drop_draft(context)
    if update.callback_query is not None:
        await answer_callback(update.callback_query, "已取消")
    await send(update, context, "已取消，没有保存任何修改。发送 /admin 打开管理菜单。")
    return END


async def cancel_outside(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel with nothing in progress (anyone may send it; nothing changes)."""
    await update.effective_message.reply_text("当前没有进行中的操作。")


def timed_out_handler(timeout_seconds: float):
    minutes = timeout_seconds / 60
    span = f"{minutes:g} 分钟" if minutes >= 1 else f"{timeout_seconds:g} 秒"

    async def timed_out(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The admin went quiet mid-edit: drop the draft and say so."""
        drop_draft(context)
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None:
            await context.bot.send_message(chat.id, f"⏰ 已超时：{span}没有回复，本次操作已取消，没有保存任何修改。"
                                                    "发送 /admin 重新开始。")
    return timed_out


@admin_only
async def unexpected(update: Update, context: ContextTypes.DEFAULT_TYPE):
    """A sticker, photo, file or text where the current step wants something else."""
    current = draft(context) or {}
    ask = current.get("prompt") or "请按上一条消息的提示回复。"
    await update.effective_message.reply_text(f"这一步没法用这条消息。{ask}\n（发送 /cancel 可取消）")
    return None


IN_GROUP = "请私聊我使用管理功能：点我的头像进入私聊，发送 /admin。"


async def in_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin command sent in a group: admins are pointed to the private chat (the admin tools work
    only there); anyone else's is ignored, as any command the bot does not offer them."""
    if await is_admin(update, context):
        await update.effective_message.reply_text(IN_GROUP)
