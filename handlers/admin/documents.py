"""New source documents: a .txt/.docx file, its title, district and date, then confirm."""
from __future__ import annotations

import re
from datetime import date

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin import AdminError, extract_text
from handlers import callbacks as cb
from handlers.common import answer_callback
from knowledge.districts import canonical_district

from . import views
from .auth import admin_only
from .common import (
    CONFIRM,
    D_DATE,
    D_DISTRICT,
    D_FILE,
    D_TITLE,
    END,
    admin_service,
    draft,
    drop_draft,
    new_draft,
    next_step,
    parse,
    prompt,
    run,
    send,
    user_id,
    write,
)
from .files import DOCUMENT_SUFFIXES, download, suffix

FIELDS = {"t": "标题", "d": "区县", "y": "日期"}
FIELD_STATE = {"t": D_TITLE, "d": D_DISTRICT, "y": D_DATE}
DATE_RE = re.compile(r"^\s*(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?\s*$")
MIN_CHARS = 20


def normalise_date(text: str) -> str | None:
    """"2025-03-01", "2025.3.1", "2025年3月1日" -> "2025-03-01"; None if not a real date."""
    m = DATE_RE.match(text or "")
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


@admin_only
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE):
    await answer_callback(update.callback_query)
    new_draft(context, "document")
    await prompt(update, context, "📄 新增资料文档：请发送 .txt 或 .docx 文件（不超过 2 MB）。\n"
                                  "添加后，没有现成问答的问题机器人会从中摘录原文回答，新增条目时也可以引用它。")
    return D_FILE


@admin_only
async def file_received(update: Update, context: ContextTypes.DEFAULT_TYPE):
    """The file, whether sent after 📄 新增资料文档 or straight away (then the conversation starts here)."""
    document = update.effective_message.document
    current = draft(context)
    if current is None or current.get("kind") != "document" or "data" in current:
        current = new_draft(context, "document")
    if suffix(document) not in DOCUMENT_SUFFIXES:
        await update.effective_message.reply_text("资料文档只支持 .txt 和 .docx，请重新发送（发送 /cancel 取消）。")
        return D_FILE
    data = await download(update, document)
    if data is None:
        return D_FILE
    name = document.file_name or f"upload{suffix(document)}"
    try:
        text = await run(extract_text, name, data)
    except AdminError as exc:
        await update.effective_message.reply_text(f"{exc}，请换一个文件（发送 /cancel 取消）。")
        return D_FILE
    if len(re.sub(r"\s+", "", text)) < MIN_CHARS:
        await update.effective_message.reply_text("这个文件里几乎没有文字，请换一个文件（发送 /cancel 取消）。")
        return D_FILE
    current.update(data=data, filename=name, chars=len(text), head=re.sub(r"\s+", " ", text)[:120],
                   title="", district=None, date=None, queue=["t", "d", "y"])
    await send(update, context, f"收到《{name}》，约 {len(text)} 字。")
    return await advance(update, context)


async def advance(update: Update, context: ContextTypes.DEFAULT_TYPE):
    return await next_step(update, context, ask_field, show_preview)


async def fix_field(update: Update, context: ContextTypes.DEFAULT_TYPE, field: str):
    if field not in FIELD_STATE:
        return CONFIRM
    draft(context)["queue"] = [field]
    return await advance(update, context)


async def ask_field(update: Update, context: ContextTypes.DEFAULT_TYPE, field: str):
    current = draft(context)
    if field == "t":
        await prompt(update, context, "请发送文档标题，例如“临平区总工会2025年工作报告”：")
    elif field == "d":
        await prompt(update, context, "这篇资料属于哪个区县？", views.district_picker(current["district"]))
    elif field == "y":
        await prompt(update, context, "请发送发布日期，例如 2025-03-01：",
                     views.keyboard([[views.button("📅 今天", "dt")]]))
    return FIELD_STATE[field]


@admin_only
async def got_title(update: Update, context: ContextTypes.DEFAULT_TYPE):
    text = (update.effective_message.text or "").strip()
    if not text or len(text) > 200:
        await update.effective_message.reply_text("标题应为 1–200 个字，请重新发送：")
        return None
    draft(context)["title"] = text
    return await advance(update, context)


@admin_only
async def got_district(update: Update, context: ContextTypes.DEFAULT_TYPE):
    query = update.callback_query
    _, args = parse(query.data)
    ok, name = cb.district_from(args[0] if args else "")
    if not ok:
        await answer_callback(query, "请重新选择")
        return None
    await answer_callback(query, f"区县：{views.district_label(name)}")
    draft(context)["district"] = name
    return await advance(update, context)


@admin_only
async def got_district_text(update: Update, context: ContextTypes.DEFAULT_TYPE):
    text = (update.effective_message.text or "").strip()
    name = canonical_district(text)
    if name is None and text not in ("不限", "不限区县", "通用"):
        await update.effective_message.reply_text("请点上面的按钮选择区县（或发送“通用”）：")
        return None
    draft(context)["district"] = name
    return await advance(update, context)


@admin_only
async def got_date(update: Update, context: ContextTypes.DEFAULT_TYPE):
    day = normalise_date(update.effective_message.text or "")
    if day is None:
        await update.effective_message.reply_text("日期格式应为 2025-03-01，请重新发送：")
        return None
    draft(context)["date"] = day
    return await advance(update, context)


@admin_only
async def today(update: Update, context: ContextTypes.DEFAULT_TYPE):
    await answer_callback(update.callback_query)
    draft(context)["date"] = date.today().isoformat()
    return await advance(update, context)


async def show_preview(update: Update, context: ContextTypes.DEFAULT_TYPE):
    current = draft(context)
    text = "\n".join([
        "👀 预览：新增资料文档",
        f"标题：{current['title']}",
        f"区县：{views.district_label(current['district'])}",
        f"日期：{current['date']}",
        f"文件：{current['filename']}（约 {current['chars']} 字）",
        f"开头：{current['head']}……",
        "",
        "确认保存吗？",
    ])
    current["prompt"] = "请点预览下面的按钮：确认保存、取消，或修改某一项。"
    await send(update, context, text, views.confirm_markup(True, FIELDS))
    return CONFIRM


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE):
    current = draft(context)
    try:
        doc = await write(context, admin_service(context).add_document, current["title"], current["district"],
                          current["date"], current["filename"], current["data"], user_id(update))
    except AdminError as exc:
        await answer_callback(update.callback_query, "不能保存")
        await send(update, context, f"不能保存：{exc}。请修改后再确认，或发送 /cancel 取消。")
        return CONFIRM
    await answer_callback(update.callback_query, "已保存")
    drop_draft(context)
    await send(update, context, f"✅ 已添加资料《{doc.title}》（{doc.id}，{views.district_label(doc.district)}）。\n"
                                "没有现成问答的问题，机器人现在会从中摘录原文回答；新增条目时也可以引用它。")
    return END
