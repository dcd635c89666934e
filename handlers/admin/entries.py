"""FAQ entries: search, view, guided add/edit with a validated preview, retire, history and restore."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin import DISTRICT_PREFIX, AdminError
from handlers import callbacks as cb
from handlers.common import answer_callback
from knowledge.districts import canonical_district
from knowledge.model import FaqEntry

from . import views
from .auth import admin_only
from .common import (
    CONFIRM,
    E_ALTERNATES,
    E_ANSWER,
    E_CATEGORY,
    E_DISTRICT,
    E_QUESTION,
    E_QUOTE,
    E_SOURCE,
    END,
    SEARCH,
    admin_service,
    draft,
    drop_draft,
    entry_by_ref,
    new_draft,
    next_step,
    parse,
    prompt,
    run,
    send,
    user_id,
    write,
)

FIELD_STATE = {"q": E_QUESTION, "a": E_ALTERNATES, "n": E_ANSWER, "d": E_DISTRICT, "c": E_CATEGORY, "s": E_SOURCE}
ADD_ORDER = ["q", "a", "n", "d", "c", "s"]
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
    text = (update.effective_message.text or "").strip()[:200]
    found = await run(admin_service(context).search, text, 10)
    if not found:
        await update.effective_message.reply_text("没有找到相关条目，换个关键词再试（发送 /cancel 取消）：")
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
    new_draft(context, "entry", is_new=True, entry=blank_entry(), queue=list(ADD_ORDER), changed=None)
    await send(update, context, "➕ 新增条目：我会依次问问题、其他问法、回答、区县、分类和来源，最后给您预览确认。")
    return await advance(update, context)


async def start_add_with(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str):
    """A new entry whose question is already known (an unanswered question)."""
    new_draft(context, "entry", is_new=True, entry=blank_entry(question), queue=ADD_ORDER[1:], changed=None)
    await send(update, context, f"➕ 用这个问题新建条目：\n“{question}”\n"
                                "接下来请补充其他问法、回答、区县、分类和来源。")
    return await advance(update, context)


@admin_only
async def start_edit(update: Update, context: ContextTypes.DEFAULT_TYPE):
    """ad:e:<field>:<ref> — change one field, then preview."""
    query = update.callback_query
    _, args = parse(query.data)
    field = args[0] if args else ""
    entry = await entry_by_ref(context, args[1] if len(args) > 1 else "")
    if entry is None or field not in FIELD_STATE:
        await answer_callback(query, "这个条目已不存在。")
        return END
    await answer_callback(query)
    new_draft(context, "entry", is_new=False, entry=entry.content(), queue=[field],
              changed=views.FIELD_NAMES[field])
    return await advance(update, context)


async def fix_field(update: Update, context: ContextTypes.DEFAULT_TYPE, field: str):
    """A "改…" button under the preview."""
    current = draft(context)
    if field not in FIELD_STATE:
        return CONFIRM
    current["queue"] = [field]
    if not current["is_new"]:
        names = [n for n in (current.get("changed") or "").split("、") if n]
        current["changed"] = "、".join(dict.fromkeys(names + [views.FIELD_NAMES[field]]))
    return await advance(update, context)


async def advance(update: Update, context: ContextTypes.DEFAULT_TYPE):
    return await next_step(update, context, ask_field, show_preview)


async def ask_field(update: Update, context: ContextTypes.DEFAULT_TYPE, field: str):
    current = draft(context)
    entry = current["entry"]
    svc = admin_service(context)
    if field == "q":
        text = "请发送问题（会员最常用的一种问法，一句话）："
        if entry["question"]:
            text += f"\n现在是：{entry['question']}"
        await prompt(update, context, text)
    elif field == "a":
        text = "请发送其他问法，每行一个，至少 4 个（越像会员平时的说法越好）："
        if entry["alternates"]:
            text += "\n现在是（可复制后修改，发送的内容会整体替换）：\n" + "\n".join(entry["alternates"])
        await prompt(update, context, text)
    elif field == "n":
        text = "请发送回答全文。回答里的每个数字都必须出现在引文里，资料没写的请写“文中没有写明”："
        if entry["answer"]:
            text += f"\n现在是：\n{entry['answer']}"
        await prompt(update, context, text)
    elif field == "d":
        await prompt(update, context, f"请选择区县（现在：{views.district_label(entry['district'])}）：",
                     views.district_picker(entry["district"]))
    elif field == "c":
        names = await run(svc.categories)
        current["choices"] = names
        await prompt(update, context, f"请选择分类（现在：{entry['category'] or '未选'}）：",
                     views.choice_picker([("✅ " if n == entry["category"] else "") + n for n in names], "pc", 3))
    elif field == "s":
        docs = await run(svc.documents, entry["district"])
        current["choices"] = [d.id for d in docs]
        labels = [f"{d.district or '通用'}｜{d.title}" for d in docs]
        await prompt(update, context, "请选择引文所在的来源文档（只列出本区县和通用的文档）：",
                     views.choice_picker(labels, "ps", 1))
    return FIELD_STATE[field]


def _text(update: Update) -> str:
    return (update.effective_message.text or "").strip()


@admin_only
async def got_question(update: Update, context: ContextTypes.DEFAULT_TYPE):
    text = _text(update)
    if not text or len(text) > MAX_QUESTION:
        await update.effective_message.reply_text(f"问题应为 1–{MAX_QUESTION} 个字，请重新发送：")
        return None
    draft(context)["entry"]["question"] = text
    return await advance(update, context)


@admin_only
async def got_alternates(update: Update, context: ContextTypes.DEFAULT_TYPE):
    entry = draft(context)["entry"]
    lines = [line.strip().lstrip("·•-*0123456789.、) ").strip() for line in _text(update).splitlines()]
    alternates = [a for a in dict.fromkeys(lines) if a and a != entry["question"]]
    if not alternates:
        await update.effective_message.reply_text("没有收到问法，请每行发一个：")
        return None
    entry["alternates"] = alternates[:40]
    return await advance(update, context)


@admin_only
async def got_answer(update: Update, context: ContextTypes.DEFAULT_TYPE):
    text = _text(update)
    if not text or len(text) > MAX_ANSWER:
        await update.effective_message.reply_text(f"回答应为 1–{MAX_ANSWER} 个字，请重新发送：")
        return None
    draft(context)["entry"]["answer"] = text
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
    draft(context)["entry"]["district"] = name
    return await advance(update, context)


@admin_only
async def got_district_text(update: Update, context: ContextTypes.DEFAULT_TYPE):
    text = _text(update)
    name = canonical_district(text)
    if name is None and text not in NONE_WORDS:
        await update.effective_message.reply_text("请点上面的按钮选择区县（或发送“通用”）：")
        return None
    draft(context)["entry"]["district"] = name
    return await advance(update, context)


def _picked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    _, args = parse(update.callback_query.data)
    choices = (draft(context) or {}).get("choices") or []
    if args and args[0].isdigit() and int(args[0]) < len(choices):
        return choices[int(args[0])]
    return None


@admin_only
async def got_category(update: Update, context: ContextTypes.DEFAULT_TYPE):
    name = _picked(update, context)
    if name is None:
        await answer_callback(update.callback_query, "请重新选择")
        return None
    await answer_callback(update.callback_query, f"分类：{name}")
    draft(context)["entry"]["category"] = name
    return await advance(update, context)


@admin_only
async def got_source(update: Update, context: ContextTypes.DEFAULT_TYPE):
    doc_id = _picked(update, context)
    if doc_id is None:
        await answer_callback(update.callback_query, "请重新选择")
        return None
    await answer_callback(update.callback_query)
    current = draft(context)
    current["document"] = doc_id
    docs = await _documents(context)
    title = docs[doc_id].title if doc_id in docs else doc_id
    await prompt(update, context, f"请从《{title}》中逐字复制一句支持回答的原文发给我（标点和数字要一致）：")
    return E_QUOTE


@admin_only
async def got_quote(update: Update, context: ContextTypes.DEFAULT_TYPE):
    text = _text(update)
    current = draft(context)
    if not text:
        await update.effective_message.reply_text("请发送引文：")
        return None
    current["entry"]["sources"] = [{"document": current["document"], "quote": text}]
    return await advance(update, context)


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
    current["prompt"] = "请点预览下面的按钮：确认保存、取消，或修改某一项。"
    await send(update, context, text, views.confirm_markup(not problems, views.FIELD_NAMES))
    return CONFIRM


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
