"""New source documents: a .txt/.docx file, its title, district and date, then confirm."""
from __future__ import annotations

import re
from datetime import date

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin import AdminError, extract_text
from handlers.common import answer_callback
from handlers.media import answer_media

from . import views
from .auth import admin_only, admin_or
from .common import CONFIRM, D_FILE, END, admin_service, draft, drop_draft, new_draft, prompt, run, send, user_id, write
from .files import DOCUMENT_SUFFIXES, download, suffix
from .steps import Flow, Retry, Step, bounded, district_buttons, district_typed, pressed, send_preview, typed

FIELDS = {"t": "标题", "d": "区县", "y": "日期"}
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


@admin_or(answer_media)
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
                   title="", district=None, date=None, queue=FLOW.fields)
    await send(update, context, f"收到《{name}》，约 {len(text)} 字。")
    return await FLOW.advance(update, context)


def _read_date(value: str, _current: dict) -> str:
    day = normalise_date(value)
    if day is None:
        raise Retry("日期格式应为 2025-03-01，请重新发送：")
    return day


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
    return await send_preview(update, context, text, views.confirm_markup(True, FIELDS))


FLOW = Flow(
    kind="document",
    preview=show_preview,
    steps=(
        Step("t", "d_title", "请发送文档标题，例如“临平区总工会2025年工作报告”：",
             (typed(bounded("标题", 200)),), "title"),
        Step("d", "d_district",
             lambda _context, current: ("这篇资料属于哪个区县？", views.district_picker(current["district"])),
             (district_buttons(), district_typed(("不限", "不限区县", "通用"))), "district"),
        Step("y", "d_date",
             ("请发送发布日期，例如 2025-03-01：", views.keyboard([[views.button("📅 今天", "dt")]])),
             (typed(_read_date), pressed("dt", lambda _args, _current: date.today().isoformat(), with_args=False)),
             "date"),
    ),
)


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
