"""What admins read: texts and keyboards of the admin tools (no I/O here)."""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.admin import UnansweredGroup
from handlers import callbacks as cb
from handlers.render import MAX_MESSAGE, fit, station_lines
from knowledge.districts import DISTRICTS
from knowledge.model import FaqEntry, SourceDocument, Station
from knowledge.station_files import StationProblem
from knowledge.validate import Problem

from .common import button, keyboard, when

MENU_TEXT = "🛠️ 管理菜单：请选择要做的事。\n也可以直接把 .yaml/.csv 文件发给我导入，或发送 .txt/.docx 新增资料文档。"
FIELD_NAMES = {"q": "问题", "a": "其他问法", "n": "回答", "d": "区县", "c": "分类", "s": "来源"}
STATION_FIELDS = {"l": "位置", "n": "名称", "a": "地址", "h": "开放时间", "v": "服务", "d": "区县"}
ACTIONS = {"create": "新增", "update": "修改", "retire": "停用", "import": "导入", "add-alternate": "加问法"}


def menu_markup() -> InlineKeyboardMarkup:
    return keyboard([
        [button("🔎 搜索/编辑条目", "m", "s"), button("➕ 新增条目", "m", "n")],
        [button("❓ 未答问题", "m", "u"), button("📥 导入文件", "m", "i"), button("📤 导出", "m", "x")],
        [button("🏠 驿站", "m", "st"), button("📄 新增资料文档", "m", "d")],
        [button("📊 统计", "m", "t"), button("👥 管理员", "m", "a")],
    ])


def back_to_menu() -> list[InlineKeyboardButton]:
    return [button("⬅️ 管理菜单", "m")]


def district_label(district: str | None) -> str:
    return district or "不限区县（通用）"


# ---------------------------------------------------------------- entries
def entry_text(entry: FaqEntry, documents: dict[str, SourceDocument], title: str | None = None) -> str:
    status = "✅ 使用中" if entry.active else "⛔ 已停用"
    lines = [title or f"📝 条目 {entry.id}（{status}）",
             f"问题：{entry.question or '（未填）'}",
             f"区县：{district_label(entry.district)}　分类：{entry.category or '（未选）'}",
             f"其他问法（{len(entry.alternates)} 个）："]
    lines += [f"· {a}" for a in entry.alternates] or ["· （无）"]
    lines += ["回答：", entry.answer or "（未填）", "来源："]
    for s in entry.sources:
        doc = documents.get(s.document)
        lines.append(f"· 《{doc.title if doc else s.document}》「{s.quote}」")
    if not entry.sources:
        lines.append("· （未填）")
    return "\n".join(lines)


def entry_markup(entry: FaqEntry) -> InlineKeyboardMarkup:
    ref = cb.ref_of(entry.id)
    status = button("⛔ 停用", "rt", ref) if entry.active else button("♻️ 重新启用", "ra", ref)
    return keyboard([
        [button("✏️ 编辑问题", "e", "q", ref), button("✏️ 编辑问法", "e", "a", ref),
         button("✏️ 编辑回答", "e", "n", ref)],
        [button("区县", "e", "d", ref), button("分类", "e", "c", ref), button("来源", "e", "s", ref)],
        [status, button("🕘 历史", "h", ref)],
        back_to_menu(),
    ])


def entry_list_markup(entries: list[FaqEntry], verb: str = "v") -> InlineKeyboardMarkup | None:
    rows = []
    for e in entries:
        label = ("⛔ " if not e.active else "") + e.question
        if e.district and e.district[:2] not in label:
            label += f"（{e.district}）"
        rows.append([button(label, verb, cb.ref_of(e.id))])
    return keyboard(rows)


def preview_text(entry: FaqEntry, documents: dict[str, SourceDocument], problems: list[Problem],
                 is_new: bool, changed: str | None) -> str:
    head = "👀 预览：新增条目" if is_new else f"👀 预览：修改条目 {entry.id}" + (f"（{changed}）" if changed else "")
    if problems:
        tail = f"⚠️ 有 {len(problems)} 处问题，改好后才能保存：\n" + "\n".join(f"· {p.message}" for p in problems)
    else:
        tail = "✅ 检查通过（引文在原文中，数字都有出处）。确认保存吗？"
    tail = fit(tail, MAX_MESSAGE // 2)
    return fit(entry_text(entry, documents, head), MAX_MESSAGE - len(tail) - 2) + "\n\n" + tail


def fix_rows(fields: dict[str, str], prefix: str = "改") -> list[list[InlineKeyboardButton]]:
    buttons = [button(f"{prefix}{name}", "pf", key) for key, name in fields.items()]
    return [buttons[i:i + 3] for i in range(0, len(buttons), 3)]


def confirm_markup(can_save: bool, fields: dict[str, str] | None = None) -> InlineKeyboardMarkup:
    rows = [[button("✅ 确认保存", "ok"), button("✖️ 取消", "no")] if can_save else [button("✖️ 取消", "no")]]
    return keyboard(rows + (fix_rows(fields) if fields else []))


def district_picker(current: str | None = None, allow_none: bool = True) -> InlineKeyboardMarkup:
    buttons = [button(("✅ " if d.name == current else "") + d.name, "pd", i) for i, d in enumerate(DISTRICTS)]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    if allow_none:
        rows.append([button(("✅ " if current is None else "") + "不限区县（通用）", "pd", "x")])
    return keyboard(rows)


def choice_picker(labels: list[str], verb: str, per_row: int = 2) -> InlineKeyboardMarkup:
    buttons = [button(label, verb, i) for i, label in enumerate(labels)]
    return keyboard([buttons[i:i + per_row] for i in range(0, len(buttons), per_row)])


def history_text(entry_id: str, revisions) -> str:
    if not revisions:
        return f"🕘 {entry_id} 还没有修改记录。"
    lines = [f"🕘 {entry_id} 的修改记录（新的在前，最多 {len(revisions)} 条）："]
    for i, rev in enumerate(revisions):
        action = ACTIONS.get(rev.action, rev.action)
        if rev.action.startswith("restore#"):
            action = f"恢复到 #{rev.action.split('#', 1)[1]}"
        current = "（当前）" if i == 0 else ""
        lines.append(f"#{rev.id}  {when(rev.created_at)}  {rev.actor}  {action}{current}")
    lines.append("\n点“恢复此版本”可把条目改回那次修改后的样子（恢复本身也会记入历史，可再撤销）。")
    return "\n".join(lines)


def history_markup(entry: FaqEntry, revisions) -> InlineKeyboardMarkup:
    rows = [[button(f"↩️ 恢复此版本 #{rev.id}", "rs", rev.id)] for rev in revisions[1:] if rev.after]
    rows.append([button("⬅️ 返回条目", "v", cb.ref_of(entry.id))])
    return keyboard(rows)


# ---------------------------------------------------------------- unanswered
def unanswered_text(groups: list[UnansweredGroup], days: int) -> str:
    if not groups:
        return f"👍 最近 {days} 天没有答不上或被点 👎 的问题。"
    lines = [f"❓ 最近 {days} 天答不上（或被点 👎）的问题，按次数排列："]
    for i, g in enumerate(groups, 1):
        extra = []
        if g.disliked:
            extra.append(f"👎 {g.disliked}")
        if g.districts:
            extra.append("、".join(g.districts))
        lines.append(f"{i}. {g.question}（{g.count} 次{'，' + '，'.join(extra) if extra else ''}）")
        others = [w for w in g.examples if w != g.question]
        if others:
            lines.append("   类似说法：" + " / ".join(others))
    lines.append("\n可以把问题加为已有条目的问法，或用它新建条目。")
    return "\n".join(lines)


def unanswered_markup(groups: list[UnansweredGroup]) -> InlineKeyboardMarkup | None:
    rows = []
    for i, _ in enumerate(groups):
        rows.append([button(f"{i + 1}. 加为已有条目的问法", "ua", i), button(f"{i + 1}. 用它新建条目", "un", i)])
    return keyboard(rows + [back_to_menu()])


# ---------------------------------------------------------------- stations
def stations_menu(stations: list[Station]) -> tuple[str, InlineKeyboardMarkup]:
    examples = sum(s.is_example for s in stations)
    text = f"🏠 驿站管理：共 {len(stations)} 个在用驿站"
    if examples:
        text += f"（其中 {examples} 个是示例，不是真实站点）"
    text += "。\n选择区县查看和修改，或新增驿站（需要发送位置）。"
    buttons = [button(f"{d.name}（{sum(s.district == d.name for s in stations)}）", "sl", i)
               for i, d in enumerate(DISTRICTS)]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    rows.append([button("➕ 新增驿站", "sa")])
    rows.append(back_to_menu())
    return text, keyboard(rows)


def station_list(stations: list[Station], district: str, limit: int = 40) -> tuple[str, InlineKeyboardMarkup]:
    if not stations:
        text = f"{district}还没有驿站。"
    else:
        shown = f"，显示前 {limit} 个" if len(stations) > limit else ""
        text = f"{district}的驿站（{len(stations)} 个{shown}）："
    rows = [[button(("【示例】" if s.is_example else "") + s.name, "sv", cb.ref_of(s.id))] for s in stations[:limit]]
    rows.append([button("➕ 新增驿站", "sa"), button("⬅️ 驿站管理", "m", "st")])
    return text, keyboard(rows)


def station_text(station: Station, title: str | None = None) -> str:
    status = "✅ 在用" if station.active else "⛔ 已停用"
    lines = [title or f"🏠 驿站 {station.id}（{status}）"]
    lines += station_lines(station)
    lines.append(f"   坐标：{station.latitude:.5f}, {station.longitude:.5f}")
    if station.is_example:
        lines.append("   ⚠️ 这是示例数据，不是真实站点。")
    return "\n".join(lines)


def station_markup(station: Station) -> InlineKeyboardMarkup:
    ref = cb.ref_of(station.id)
    edit = [button(f"改{name}", "se", key, ref) for key, name in STATION_FIELDS.items()]
    index = next((i for i, d in enumerate(DISTRICTS) if d.name == station.district), None)
    back = button("⬅️ 返回列表", "sl", index) if index is not None else button("⬅️ 驿站管理", "m", "st")
    last = [button("⛔ 停用", "sr", ref), back] if station.active else [back]
    return keyboard([edit[:3], edit[3:], last])


def station_preview(station: Station, problems: list[StationProblem], is_new: bool) -> str:
    text = station_text(station, "👀 预览：新增驿站" if is_new else f"👀 预览：修改驿站 {station.id}")
    fatal = [p for p in problems if p.fatal]
    warnings = [p for p in problems if not p.fatal]
    if fatal:
        text += f"\n\n⚠️ 有 {len(fatal)} 处问题，改好后才能保存：\n" + "\n".join(f"· {p.message}" for p in fatal)
    if warnings:
        text += "\n\n提醒：\n" + "\n".join(f"· {p.message}" for p in warnings)
    if not fatal:
        text += "\n\n确认保存吗？保存后“附近驿站”查询立即生效。"
    return text


# ---------------------------------------------------------------- admins
def admins_text(ids: list[int], me: int) -> str:
    lines = [f"👥 管理员（{len(ids)} 位）："]
    lines += [f"· {i}{'（您）' if i == me else ''}" for i in ids]
    lines.append("\n管理员可以修改知识库、驿站和管理员名单。至少要保留一位管理员。")
    return "\n".join(lines)


def admins_markup(ids: list[int]) -> InlineKeyboardMarkup:
    rows = [[button(f"移除 {i}", "ar", i)] for i in ids] if len(ids) > 1 else []
    return keyboard(rows + [[button("➕ 添加管理员", "aa")], back_to_menu()])


IMPORT_HELP = (
    "📥 导入：把文件直接发给我（不超过 2 MB，UTF-8 编码）。整份文件检查通过才会写入，"
    "有问题会指出第几行，什么都不改。\n\n"
    "问答条目 .yaml：与 knowledge/data/faq/*.yaml 相同（顶层 entries: 列表）。\n"
    "问答条目 .csv，表头：\n"
    "id,district,category,question,alternates,keywords,answer,source_document,source_quote\n"
    "alternates 和 keywords 里多个值用 | 分隔。\n\n"
    "驿站 .yaml（顶层 stations:）或 .csv，表头：\n"
    "id,name,district,kind,latitude,longitude,address,hours,services\n"
    "services 里多个值用 ; 分隔。\n\n"
    "可以先点“📤 导出”拿到当前的问答文件，改好后再发回来。"
)
