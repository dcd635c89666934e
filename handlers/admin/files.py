"""Files: an admin's .yaml/.yml/.csv upload is imported (all or nothing); /export sends the FAQ back."""
from __future__ import annotations

from datetime import date
from pathlib import PurePath

from telegram import Document, InputFile, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.admin import MAX_UPLOAD_BYTES
from handlers import render
from handlers.media import answer_media

from . import views
from .auth import admin_only, admin_or, is_admin
from .common import (
    admin_service,
    log,
    run,
    show,
    user_id,
    write,
)

IMPORT_SUFFIXES = (".yaml", ".yml", ".csv")
DOCUMENT_SUFFIXES = (".txt", ".docx")
TOO_BIG = f"文件太大了（上限 {MAX_UPLOAD_BYTES // 1024 // 1024} MB），请拆成几份再发。"


def suffix(document: Document) -> str:
    return PurePath(document.file_name or "").suffix.lower()


async def download(update: Update, document: Document) -> bytes | None:
    """The file's bytes, or None after telling the admin why not."""
    message = update.effective_message
    if document.file_size and document.file_size > MAX_UPLOAD_BYTES:
        await message.reply_text(TOO_BIG)
        return None
    try:
        telegram_file = await document.get_file()
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("admin file download failed user=%s file=%s error=%s", user_id(update), document.file_name, exc)
        await message.reply_text("文件下载失败，请重新发送一次。")
        return None
    if len(data) > MAX_UPLOAD_BYTES:
        await message.reply_text(TOO_BIG)
        return None
    return data


@admin_or(answer_media)
async def import_upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A FAQ or station file: checked as a whole, written only if every line is valid."""
    document = update.effective_message.document
    data = await download(update, document)
    if data is None:
        return
    name = document.file_name or "upload"
    result = await write(context, admin_service(context).import_file, name, data, user_id(update))
    log.info("admin import user=%s file=%s kind=%s ok=%s written=%d problems=%d", user_id(update),
             document.file_name, result.kind, result.ok, result.written, len(result.problems))
    await update.effective_message.reply_text(render.fit(result.report()))


async def other_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other file: admins learn what is accepted; members get the usual "text only" note."""
    message = update.effective_message
    if await is_admin(update, context):
        await message.reply_text("不支持这种文件。导入问答或驿站请发送 .yaml / .yml / .csv；"
                                 "新增资料文档请发送 .txt / .docx。发送 /admin 查看管理菜单。")
        return
    await answer_media(update, context)


@admin_only
async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await export(update, context)


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE, _args=None) -> None:
    data = await run(admin_service(context).export_faq)
    name = f"faq-export-{date.today():%Y%m%d}.yaml"
    await context.bot.send_document(
        update.effective_chat.id, InputFile(data, filename=name),
        caption="📤 当前知识库的全部问答条目（含已停用的）。改好后把文件发回给我即可导入。")


async def import_help(update: Update, context: ContextTypes.DEFAULT_TYPE, _args=None) -> None:
    await show(update, context, views.IMPORT_HELP, views.keyboard([views.back_to_menu()]))
