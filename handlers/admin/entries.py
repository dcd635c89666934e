"""FAQ entries: search, view, guided add/edit with a validated preview, retire, history and restore."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin import DISTRICT_PREFIX, AdminError
from handlers import callbacks as cb
from handlers.common import answer_callback
from knowledge.model import FaqEntry

from . import views
from .auth import admin_only
from .common import (
    END,
    SEARCH,
    admin_service,
    draft,
    drop_draft,
    entry_by_ref,
    new_draft,
    prompt,
    run,
    search_typed,
    send,
    user_id,
    write,
)
from .steps import Flow, Retry, Step, bounded, choice, district_buttons, district_typed, send_preview, typed

MAX_QUESTION = 200
MAX_ANSWER = 3000
NONE_WORDS = {"不限", "不限区县", "通用", "全部", "无"}


def blank_entry(question: str = "") -> dict:
    return {"id": "", "district": None, "category": "", "question": question, "alternates": [], "keywords": [],
            "answer": "", "sources": []}


async def _documents(context: ContextTypes.DEFAULT_TYPE) -> dict:
    return {d.id: d for d in await run(admin_service(context).documents)}


# ---------------------------------------------------------------- search and view
@admin_only
async def start_search(update: Update, context: ContextTypes.DEFAULT_TYPE):
    await answer_callback(update.callback_query)
    new_draft(context, "search")
    await prompt(update, context, "🔎 请发送关键词、问题原文或条目 id：")
    return SEARCH


@admin_only
async def search_text(update: Update, context: ContextTypes.DEFAULT_TYPE):
    found = await search_typed(update, context)
    if found is None:
        return None
    drop_draft(context)
    await send(update, context, f"找到 {len(found)} 个条目，点选查看和修改：", views.entry_list_markup(found))
    return END


async def send_entry(update: Update, context: ContextTypes.DEFAULT_TYPE, entry: FaqEntry, note: str = "") -> None:
    text = views.entry_text(entry, await _documents(context))
    await send(update, context, (note + "\n\n" if note else "") + text, views.entry_markup(entry))


async def view(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> str | None:
    entry = await entry_by_ref(context, args[0] if args else "")
    if entry is None:
        return "这个条目已不存在。"
    await send_entry(update, context, entry)
    return None


# ---------------------------------------------------------------- guided add / edit
@admin_only
async def start_add(update: Update, context: ContextTypes.DEFAULT_TYPE):
    await answer_callback(update.callback_query)
    return await FLOW.start(update, context, FLOW.fields, is_new=True, entry=blank_entry(), changed=None,
                            intro="➕ 新增条目：我会依次问问题、其他问法、回答、区县、分类和来源，最后给您预览确认。")


async def start_add_with(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str):
    """A new entry whose question is already known (an unanswered question)."""
    return await FLOW.start(update, context, FLOW.fields[1:], is_new=True, entry=blank_entry(question),
                            changed=None, intro=f"➕ 用这个问题新建条目：\n“{question}”\n"
                                                "接下来请补充其他问法、回答、区县、分类和来源。")


@admin_only
async def start_edit(update: Update, context: ContextTypes.DEFAULT_TYPE):
    """ad:e:<field>:<ref> — change one field, then preview."""
    return await FLOW.start_edit(update, context, entry_by_ref, "这个条目已不存在。", lambda entry, key: {
        "is_new": False, "entry": entry.content(), "changed": views.FIELD_NAMES[key]})


def _note_change(current: dict, key: str) -> None:
    """An edit's preview names every field changed so far."""
    if not current["is_new"]:
        names = [n for n in (current.get("changed") or "").split("、") if n]
        current["changed"] = "、".join(dict.fromkeys(names + [views.FIELD_NAMES[key]]))


def _showing(text: str, field: str, shown: Callable[[Any], str]) -> Callable[[Any, dict], str]:
    """A prompt that shows the field's current value, if it has one."""
    def ask(_context, current: dict) -> str:
        value = current["entry"][field]
        return text + shown(value) if value else text
    return ask


def _ask_district(_context, current: dict):
    district = current["entry"]["district"]
    return f"请选择区县（现在：{views.district_label(district)}）：", views.district_picker(district)


async def _ask_category(context: ContextTypes.DEFAULT_TYPE, current: dict):
    names = await run(admin_service(context).categories)
    current["choices"] = names
    chosen = current["entry"]["category"]
    return (f"请选择分类（现在：{chosen or '未选'}）：",
            views.choice_picker([("✅ " if n == chosen else "") + n for n in names], "pc", 3))


async def _ask_source(context: ContextTypes.DEFAULT_TYPE, current: dict):
    docs = await run(admin_service(context).documents, current["entry"]["district"])
    current["choices"] = [d.id for d in docs]
    labels = [f"{d.district or '通用'}｜{d.title}" for d in docs]
    return "请选择引文所在的来源文档（只列出本区县和通用的文档）：", views.choice_picker(labels, "ps", 1)


async def _ask_quote(context: ContextTypes.DEFAULT_TYPE, current: dict) -> str:
    docs = await _documents(context)
    doc_id = current["document"]
    title = docs[doc_id].title if doc_id in docs else doc_id
    return f"请从《{title}》中逐字复制一句支持回答的原文发给我（标点和数字要一致）："


def _read_alternates(value: str, current: dict) -> list[str]:
    lines = [line.strip().lstrip("·•-*0123456789.、) ").strip() for line in value.splitlines()]
    alternates = [a for a in dict.fromkeys(lines) if a and a != current["entry"]["question"]]
    if not alternates:
        raise Retry("没有收到问法，请每行发一个：")
    return alternates[:40]


def _read_quote(value: str, _current: dict) -> str:
    if not value:
        raise Retry("请发送引文：")
    return value


def _set_document(current: dict, doc_id: str) -> None:
    current["document"] = doc_id


def _set_source(current: dict, quote: str) -> None:
    current["entry"]["sources"] = [{"document": current["document"], "quote": quote}]


def _with_id(context: ContextTypes.DEFAULT_TYPE, current: dict) -> FaqEntry:
    """A new entry gets an id from its district (made again if the district changed)."""
    entry = current["entry"]
    if current["is_new"]:
        prefix = DISTRICT_PREFIX.get(entry["district"] or "", "general") + "."
        if not entry["id"].startswith(prefix):
            entry["id"] = admin_service(context).new_id(entry["district"], entry["question"])
    return FaqEntry.from_content(entry)


async def show_preview(update: Update, context: ContextTypes.DEFAULT_TYPE, problems=None):
    current = draft(context)
    entry = _with_id(context, current)
    if problems is None:
        problems = await run(admin_service(context).check, entry, current["is_new"])
    text = views.preview_text(entry, await _documents(context), problems, current["is_new"], current.get("changed"))
    return await send_preview(update, context, text, views.confirm_markup(not problems, views.FIELD_NAMES))


FLOW = Flow(
    kind="entry",
    values="entry",
    preview=show_preview,
    on_fix=_note_change,
    steps=(
        Step("q", "e_question",
             _showing("请发送问题（会员最常用的一种问法，一句话）：", "question", lambda q: f"\n现在是：{q}"),
             (typed(bounded("问题", MAX_QUESTION)),), "question"),
        Step("a", "e_alternates",
             _showing("请发送其他问法，每行一个，至少 4 个（越像会员平时的说法越好）：", "alternates",
                      lambda a: "\n现在是（可复制后修改，发送的内容会整体替换）：\n" + "\n".join(a)),
             (typed(_read_alternates),), "alternates"),
        Step("n", "e_answer",
             _showing("请发送回答全文。回答里的每个数字都必须出现在引文里，资料没写的请写“文中没有写明”：", "answer",
                      lambda n: f"\n现在是：\n{n}"),
             (typed(bounded("回答", MAX_ANSWER)),), "answer"),
        Step("d", "e_district", _ask_district, (district_buttons(), district_typed(NONE_WORDS)), "district"),
        Step("c", "e_category", _ask_category, (choice("pc", lambda name: f"分类：{name}"),), "category"),
        Step("s", "e_source", _ask_source, (choice("ps"),), _set_document, then="quote"),
        Step("quote", "e_quote", _ask_quote, (typed(_read_quote),), _set_source, queued=False),
    ),
)


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE):
    """✅ 确认保存: validated again and saved; the engine re-indexes at once."""
    current = draft(context)
    entry = _with_id(context, current)
    svc = admin_service(context)
    try:
        await write(context, svc.save, entry, user_id(update), current["is_new"])
    except AdminError:
        await answer_callback(update.callback_query, "还有问题，不能保存")
        return await show_preview(update, context)
    await answer_callback(update.callback_query, "已保存")
    drop_draft(context)
    saved = await run(svc.get, entry.id)
    await send_entry(update, context, saved, "✅ 已保存，机器人现在就按新内容回答。")
    return END


# ---------------------------------------------------------------- retire, history, restore
async def retire_ask(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> str | None:
    entry = await entry_by_ref(context, args[0] if args else "")
    if entry is None:
        return "这个条目已不存在。"
    ref = cb.ref_of(entry.id)
    await send(update, context, f"确定停用条目“{entry.question}”（{entry.id}）吗？\n停用后机器人不再用它回答，"
                                "以后可以重新启用，或在“历史”里恢复。",
               views.keyboard([[views.button("⛔ 确认停用", "ry", ref), views.button("返回", "v", ref)]]))
    return None


async def retire(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> str | None:
    entry = await entry_by_ref(context, args[0] if args else "")
    if entry is None:
        return "这个条目已不存在。"
    if not entry.active:
        return "这个条目已经停用了。"
    retired = await write(context, admin_service(context).retire, entry.id, user_id(update))
    await send_entry(update, context, retired, "⛔ 已停用，机器人不再用这个条目回答。")
    return "已停用"


async def reactivate(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> str | None:
    entry = await entry_by_ref(context, args[0] if args else "")
    if entry is None:
        return "这个条目已不存在。"
    entry.active = True
    try:
        await write(context, admin_service(context).save, entry, user_id(update))
    except AdminError as exc:
        await send(update, context, f"不能重新启用：{exc}\n请先修改条目。")
        return None
    await send_entry(update, context, entry, "♻️ 已重新启用。")
    return "已启用"


async def history(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> str | None:
    entry = await entry_by_ref(context, args[0] if args else "")
    if entry is None:
        return "这个条目已不存在。"
    revisions = await run(admin_service(context).history, entry.id, 10)
    await send(update, context, views.history_text(entry.id, revisions), views.history_markup(entry, revisions))
    return None


async def restore(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> str | None:
    if not args or not args[0].isdigit():
        return "这个按钮已失效。"
    try:
        entry = await write(context, admin_service(context).restore, int(args[0]), user_id(update))
    except AdminError as exc:
        return str(exc)
    await send_entry(update, context, entry, f"↩️ 已恢复到版本 #{args[0]}（这次恢复也记入了历史，可再撤销）。")
    return "已恢复"
