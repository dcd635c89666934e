"""Who may use the admin tools: list, add by numeric Telegram id (confirmed), remove (never the last)."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import answer_callback

from . import views
from .auth import admin_only
from .common import END, admin_service, draft, drop_draft, run, send, show, user_id
from .steps import Flow, Retry, Step, send_preview, typed

MAX_ID = 2 ** 52


@admin_only
async def admins_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_admins(update, context)


async def show_admins(update: Update, context: ContextTypes.DEFAULT_TYPE, _args=None) -> None:
    ids = await run(admin_service(context).list_admins)
    await show(update, context, views.admins_text(ids, user_id(update)), views.admins_markup(ids))


@admin_only
async def start_add(update: Update, context: ContextTypes.DEFAULT_TYPE):
    await answer_callback(update.callback_query)
    return await FLOW.start(update, context, FLOW.fields)


def _read_id(value: str, _current: dict) -> int:
    digits = value.replace(" ", "")
    if not digits.isdigit() or not 0 < int(digits) < MAX_ID:
        raise Retry("ID 应为一串数字，例如 123456789，请重新发送：")
    return int(digits)


async def _confirm_question(update: Update, context: ContextTypes.DEFAULT_TYPE):
    new_id = draft(context)["user_id"]
    return await send_preview(update, context, f"确认把 {new_id} 设为管理员吗？TA 将能修改知识库、驿站和管理员名单。",
                              views.confirm_markup(True), ask="请点按钮确认或取消。")


FLOW = Flow(
    kind="admin",
    preview=_confirm_question,
    steps=(Step("i", "a_id", "请发送新管理员的 Telegram 数字 ID（对方可以向 @userinfobot 查询自己的 ID）：",
                (typed(_read_id),), "user_id"),),
)


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE):
    new_id = draft(context)["user_id"]
    added = await run(admin_service(context).add_admin, user_id(update), new_id)
    await answer_callback(update.callback_query, "已添加" if added else "已经是管理员")
    drop_draft(context)
    await send(update, context, f"✅ 已把 {new_id} 设为管理员。对方给我发送 /admin 即可使用管理菜单。" if added
               else f"{new_id} 已经是管理员了。")
    return END


async def remove_ask(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> str | None:
    if not args or not args[0].isdigit():
        return "这个按钮已失效。"
    await send(update, context, f"确定移除管理员 {args[0]} 吗？",
               views.keyboard([[views.button("确认移除", "ay", args[0]), views.button("返回", "m", "a")]]))
    return None


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> str | None:
    if not args or not args[0].isdigit():
        return "这个按钮已失效。"
    removed = await run(admin_service(context).remove_admin, user_id(update), int(args[0]))
    if not removed:
        await send(update, context, f"没有移除 {args[0]}：TA 不是管理员，或是最后一位管理员（至少要保留一位）。")
        return None
    ids = await run(admin_service(context).list_admins)
    await send(update, context, f"✅ 已移除管理员 {args[0]}。\n\n" + views.admins_text(ids, user_id(update)),
               views.admins_markup(ids))
    return "已移除"
