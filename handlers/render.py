"""Turning engine results into Telegram text and keyboards (no I/O here).

Why separate: what the user reads is decided in one place, testable without a
network, and every answer leaves with its source line; example stations always
leave with the warning that they are not real.
"""
from __future__ import annotations

import math
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from knowledge.districts import DISTRICTS
from knowledge.engine import HOTLINE, Answer, Suggestion
from knowledge.model import FaqEntry, SourceDocument, Station
from knowledge.stations import Nearby

from . import callbacks as cb

MAX_MESSAGE = 4096
MAX_BUTTON_TEXT = 48
TOPICS_PER_PAGE = 6
QUESTIONS_PER_PAGE = 6
NEARBY_BUTTON = "📍 附近驿站"
LOCATION_PROMPT = f"点下方“{NEARBY_BUTTON}”按钮发送您的位置，我来找最近的驿站（位置只用于这次查找，不会保存）。"
GROUP_LOCATION_HINT = ("在群里找附近驿站：回复我的这条消息，点 📎 选“位置”发送您的位置，我会回复离您最近的驿站；"
                       f"也可以私聊我，点“{NEARBY_BUTTON}”按钮。")
EXAMPLE_WARNING = ("⚠️ 以上是示例数据，不是真实站点，请勿前往。资料只给出了各区县驿站的数量，没有地址；"
                   f"真实位置请咨询所在区县总工会或拨打{HOTLINE}职工服务热线。")
EXAMPLE_TAG = "【示例数据，非真实站点】"
ERROR_TEXT = "抱歉，出了点问题，请稍后再试。"
FLOOD_TEXT = "您发得太快了"


def flood_text(seconds: int) -> str:
    """When the user may write again, so they are not left wondering why the bot went quiet."""
    wait = f"{seconds} 秒" if seconds < 90 else f"{math.ceil(seconds / 60)} 分钟"
    return f"{FLOOD_TEXT}，请 {wait}后再发。在这之前发来的消息我不会回复。"


LONG_NOTE = "您的消息很长，我只看了开头的一段来回答。"
NON_TEXT = {
    "sticker": "表情贴纸", "photo": "图片", "voice": "语音", "video": "视频", "video_note": "视频消息",
    "audio": "音频", "animation": "动图", "document": "文件", "contact": "名片", "poll": "投票", "dice": "骰子",
}


def clip(text: str, limit: int = MAX_BUTTON_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(text: str, limit: int = MAX_MESSAGE) -> str:
    """Telegram rejects longer messages; cut at a line break where possible."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1] + "…"


# ---------------------------------------------------------------- answers
CONTINUED_CLIP = 24
# "发送 /district 选择您所在的区，可看该区的详细说明；" in the cross-district overviews: pointless to
# someone who has chosen a district, and meaningless in an inline result shared into another chat.
_DISTRICT_HINT = re.compile(r"(?P<pre>[。；]?)发送\s*/district\s*选择您所在的区[^；。]*[；。](?P<also>也)?")


def _without_district_hint(text: str) -> str:
    def keep(m: re.Match) -> str:
        return m["pre"] + ("也" if m["pre"] == "；" and m["also"] else "")
    return _DISTRICT_HINT.sub(keep, text)


def continued_line(answer: Answer) -> str | None:
    """"接着您问的「临平读大专有补贴吗」：" when the engine read the message as a follow-up, so the
    user can tell the bot took the earlier question into account."""
    if not answer.continued:
        return None
    return f"接着您问的「{clip(answer.continued.strip(), CONTINUED_CLIP)}」："


def answer_text(answer: Answer, note: str | None = None, *, district_chosen: bool = False,
                shared: bool = False) -> str:
    """The reply: an optional note, the follow-up line, the answer, its source.
    ``district_chosen``: the user has a district; ``shared``: an inline result posted into any chat."""
    parts = []
    if note:
        parts.append(note)
    body = answer.answer.strip()
    if district_chosen or shared:
        body = _without_district_hint(body)
    if answer.kind == "passage":
        body = "📄 摘录（资料原文，非完整说明）\n" + body
    lead = None if shared else continued_line(answer)
    parts.append(f"{lead}\n{body}" if lead else body)
    source = answer.source_line()
    if source:
        parts.append(source)
    return fit("\n\n".join(parts))


def _question_label(s: Suggestion, prefix: str) -> str:
    label = s.question
    if s.district and s.district not in label and s.district[:2] not in label:
        label = f"{label}（{s.district}）"
    return clip(prefix + label)


def answer_keyboard(answer: Answer, related: list[Suggestion] | None = None) -> InlineKeyboardMarkup | None:
    """Related questions (``related``: the ones chosen for this answer, else the engine's), or the
    suggestions of an unmatched answer, then 👍/👎."""
    rows: list[list[InlineKeyboardButton]] = []
    if answer.kind == "faq":
        for s in (answer.related if related is None else related)[:3]:
            rows.append([InlineKeyboardButton(_question_label(s, "🔎 "), callback_data=cb.entry_data(s.faq_id))])
    else:
        for s in answer.suggestions[:3]:
            rows.append([InlineKeyboardButton(_question_label(s, "❓ "), callback_data=cb.entry_data(s.faq_id))])
    if answer.matched:
        rows.append([
            InlineKeyboardButton(VOTE_LABELS[True], callback_data=cb.feedback_data(True, answer.faq_id)),
            InlineKeyboardButton(VOTE_LABELS[False], callback_data=cb.feedback_data(False, answer.faq_id)),
        ])
    elif answer.kind in ("greeting", "empty", "out_of_scope") or not rows:
        rows.append([InlineKeyboardButton("📚 按主题浏览", callback_data=cb.topics_data(0))])
    return InlineKeyboardMarkup(rows) if rows else None


VOTE_LABELS = {True: "👍 有帮助", False: "👎 没帮助"}
VOTED = "✅ "


def with_vote(markup: InlineKeyboardMarkup | None, helpful: bool) -> InlineKeyboardMarkup | None:
    """The same keyboard with the user's vote ticked; the other button stays, to change it."""
    if markup is None:
        return None
    rows = []
    for row in markup.inline_keyboard:
        rows.append([InlineKeyboardButton((VOTED if b.callback_data.startswith(f"f:{int(helpful)}:") else "")
                                          + VOTE_LABELS[b.callback_data.startswith("f:1:")],
                                          callback_data=b.callback_data)
                     if (b.callback_data or "").startswith("f:") else b for b in row])
    return InlineKeyboardMarkup(rows)


def inline_text(answer: Answer) -> str:
    """The message an inline result posts into someone else's chat."""
    return answer_text(answer, shared=True)


# ---------------------------------------------------------------- welcome, help, about
def district_keyboard(current: str | None = None, prefix: str = "d") -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(("✅ " if d.name == current else "") + d.name,
                                    callback_data=cb.district_data(d.name, prefix)) for d in DISTRICTS]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    rows.append([InlineKeyboardButton(("✅ " if current is None else "") + "不限区县",
                                      callback_data=cb.district_data(None, prefix))])
    return InlineKeyboardMarkup(rows)


def _doc_years(documents: dict[str, SourceDocument]) -> str:
    years: list[str] = []
    for d in DISTRICTS:
        spans = [doc.years for doc in documents.values() if doc.district == d.name and doc.years]
        if not spans:
            continue
        label = "、".join(dict.fromkeys(spans))
        first, _, last = label.partition("–")
        if last.isdigit() and first.isdigit() and int(last) - int(first) >= 4:
            label += " 规划目标"
        years.append(f"{d.short} {label}")
    return "，".join(years)


def welcome_text(documents: dict[str, SourceDocument], current: str | None) -> str:
    names = " ".join(d.name for d in DISTRICTS)
    lines = [
        "您好！我是工会福利问答机器人 🤝",
        f"我根据各区县总工会公开发表的文章，回答{names}的职工福利问题：医疗互助、免费体检、疗休养、学历提升、"
        "爱心驿站、入会、法律维权等。",
        f"资料年份：{_doc_years(documents)}。数字和政策可能已有调整，办理前请向工会确认。",
        "",
        (f"当前区县：{current}（点下面的按钮可以更改）。直接打字提问即可，例如“医疗互助怎么参加”。" if current else
         "请先选择您所在的区县（之后可用 /district 更改），然后直接打字提问，例如“医疗互助怎么参加”。"),
        "骑手朋友发送位置或 /stations 可查附近驿站。",
    ]
    return "\n".join(lines)


def help_text(username: str | None) -> str:
    """How to use the bot; the inline line names the bot's real @username."""
    inline = f"@{username}" if username else "@ 加机器人的用户名"
    return (
        "怎么用：\n"
        "· 直接打字提问，例如“临平免费体检名额”“建德医疗互助怎么报”。问题里带区名会按该区回答。\n"
        "· 接着问也行，例如问完“临平读大专有补贴吗”再问“那富阳呢”；发送 /start 重新开始。\n"
        "· /district 选择或更改所在区县\n"
        "· /topics 按主题浏览问题\n"
        "· /stations 或发送位置：查找附近的驿站\n"
        "· /about 资料来源和年份\n"
        f"· 在任何聊天里输入 {inline} 加关键词（如“体检”）可以直接分享答案\n"
        "· 在群里请 @我 或回复我的消息提问\n"
        f"找不到答案时，请咨询所在区县总工会或拨打{HOTLINE}职工服务热线。"
    )


def about_text(documents: dict[str, SourceDocument]) -> str:
    lines = ["资料来源（各区县总工会公开发表的文章）："]
    order = {d.name: i for i, d in enumerate(DISTRICTS)}
    for doc in sorted(documents.values(), key=lambda d: (order.get(d.district or "", 99), d.id)):
        who = doc.publisher or doc.district or ""
        lines.append(f"· 《{doc.title}》— {who}，{doc.years}")
    lines.append("")
    lines.append("这些文章写于不同年份，名额、金额和办法可能已经调整。"
                 f"具体办理请以所在区县总工会的答复为准，也可拨打{HOTLINE}职工服务热线。")
    lines.append("驿站位置：文章只给出了数量，没有地址；本机器人里标“示例”的驿站不是真实站点。")
    return "\n".join(lines)


# ---------------------------------------------------------------- topics
def _nav(page: int, pages: int, data) -> list[InlineKeyboardButton]:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton("◀️ 上一页", callback_data=data(page - 1)))
    row.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=cb.NOOP))
    if page < pages - 1:
        row.append(InlineKeyboardButton("下一页 ▶️", callback_data=data(page + 1)))
    return row


def topics_page(topics: list[tuple[int, dict, int]], page: int, district: str | None
                ) -> tuple[str, InlineKeyboardMarkup | None]:
    """topics: (category index, category, count). Returns the text and keyboard of one page."""
    if not topics:
        return "暂时没有可浏览的主题。", None
    pages = (len(topics) + TOPICS_PER_PAGE - 1) // TOPICS_PER_PAGE
    page = min(max(page, 0), pages - 1)
    chunk = topics[page * TOPICS_PER_PAGE:(page + 1) * TOPICS_PER_PAGE]
    buttons = [InlineKeyboardButton(clip(f"{c.get('label') or c['name']}（{n}）"),
                                    callback_data=cb.category_data(i, 0)) for i, c, n in chunk]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    if pages > 1:
        rows.append(_nav(page, pages, cb.topics_data))
    scope = f"{district}及通用问题" if district else "全部区县"
    text = f"📚 按主题浏览（{scope}，第 {page + 1}/{pages} 页）\n请选择一个主题："
    if not district:
        text += "\n提示：用 /district 选择区县后只显示该区的问题。"
    return text, InlineKeyboardMarkup(rows)


def category_page(category_index: int, category: dict, entries: list[FaqEntry], page: int,
                  back_page: int, district: str | None) -> tuple[str, InlineKeyboardMarkup]:
    pages = max(1, (len(entries) + QUESTIONS_PER_PAGE - 1) // QUESTIONS_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    chunk = entries[page * QUESTIONS_PER_PAGE:(page + 1) * QUESTIONS_PER_PAGE]
    rows = []
    for e in chunk:
        label = e.question
        if e.district and e.district not in label and e.district[:2] not in label:
            label = f"{label}（{e.district}）"
        rows.append([InlineKeyboardButton(clip(label), callback_data=cb.entry_data(e.id))])
    if pages > 1:
        rows.append(_nav(page, pages, lambda p: cb.category_data(category_index, p)))
    rows.append([InlineKeyboardButton("⬅️ 返回主题", callback_data=cb.topics_data(back_page))])
    label = category.get("label") or category["name"]
    scope = f"{district}及通用" if district else "全部区县"
    text = f"{label}（{scope}，共 {len(entries)} 个问题，第 {page + 1}/{pages} 页）\n点选问题查看回答："
    if not entries:
        text = f"{label}：这个主题下暂时没有问题。"
    return text, InlineKeyboardMarkup(rows)


# ---------------------------------------------------------------- stations
def location_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup([[KeyboardButton(NEARBY_BUTTON, request_location=True)]],
                               resize_keyboard=True, is_persistent=False)


def distance_text(km: float) -> str:
    return f"{km * 1000:.0f} 米" if km < 1 else f"{km:.1f} 公里"


def station_lines(station: Station, distance_km: float | None = None, number: int | None = None) -> list[str]:
    head = f"{number}. " if number is not None else ""
    name = station.name + (" 【示例】" if station.is_example else "")
    first = f"{head}{name}"
    if distance_km is not None:
        first += f" — 约 {distance_text(distance_km)}"
    lines = [first]
    if station.district:
        lines.append(f"   区县：{station.district}  类型：{station.kind}")
    lines.append(f"   地址：{station.address or '未提供'}")
    if station.hours:
        lines.append(f"   开放时间：{station.hours}")
    if station.services:
        lines.append(f"   服务：{'、'.join(station.services)}")
    return lines


def venue_fields(station: Station) -> dict:
    """title/address for send_venue; an example is marked in both, since a venue has no caption."""
    title = station.name
    address = station.address or (station.district or "地址未提供")
    if station.is_example:
        title = f"{EXAMPLE_TAG}{title}"
        address = f"示例数据，非真实站点：{address}"
    return {"latitude": station.latitude, "longitude": station.longitude,
            "title": clip(title, 100), "address": clip(address, 200)}


def nearby_message(found: list[Nearby], far_km: float) -> tuple[str, InlineKeyboardMarkup | None]:
    """The list under the venue: all found stations, buttons for the others (tap -> map)."""
    if not found:
        return "暂时没有收录任何驿站。", None
    if found[0].distance_km > far_km:
        near = found[0]
        text = (f"您附近 {far_km:.0f} 公里内没有收录的驿站。机器人只收录了"
                f"{'、'.join(d.name for d in DISTRICTS)}的驿站，离您最近的是 {near.station.name}"
                f"（约 {distance_text(near.distance_km)}）。")
        if near.station.is_example:
            text += "\n" + EXAMPLE_WARNING
        return text, None
    found = [n for n in found if n.distance_km <= far_km]
    lines = ["离您最近的驿站："]
    for i, n in enumerate(found, 1):
        lines.extend(station_lines(n.station, n.distance_km, i))
    if any(n.station.is_example for n in found):
        lines.append("")
        lines.append(EXAMPLE_WARNING)
    rows = [[InlineKeyboardButton(clip(f"🗺️ {i}. {n.station.name}"), callback_data=cb.station_data(n.station.id))]
            for i, n in enumerate(found, 1) if i > 1]
    return fit("\n".join(lines)), InlineKeyboardMarkup(rows) if rows else None


def district_stations_message(stations: list[Station], district: str | None, limit: int = 10,
                              in_group: bool = False) -> tuple[str, InlineKeyboardMarkup]:
    """Stations of a district (or the choice of one). In a group no location button can be sent, so it
    says how to share a location there instead."""
    rows = []
    if district is None:
        how = GROUP_LOCATION_HINT if in_group else "发送您的位置（点下方“📍 附近驿站”按钮）可以找到最近的驿站。"
        lines = [how, "也可以选择区县查看："]
    elif not stations:
        lines = [f"{district}暂时没有收录驿站。"]
    else:
        shown = f"，显示前 {limit} 个" if len(stations) > limit else ""
        lines = [f"{district}的驿站（{len(stations)} 个{shown}）："]
        for i, s in enumerate(stations[:limit], 1):
            lines.extend(station_lines(s, None, i))
            rows.append([InlineKeyboardButton(clip(f"🗺️ {i}. {s.name}"), callback_data=cb.station_data(s.id))])
        if any(s.is_example for s in stations[:limit]):
            lines.append("")
            lines.append(EXAMPLE_WARNING)
    if in_group and district is not None:
        lines += ["", GROUP_LOCATION_HINT]
    district_buttons = [InlineKeyboardButton(("✅ " if d.name == district else "") + d.short,
                                             callback_data=cb.district_data(d.name, "sd")) for d in DISTRICTS]
    rows.append(district_buttons[:3])
    rows.append(district_buttons[3:])
    return fit("\n".join(lines)), InlineKeyboardMarkup(rows)


CAPTION_NOTES = {"photo": "图片本身我看不了，下面按您附的文字回答。",
                 "document": "文件本身我没有打开，下面按您附的文字回答。"}


def caption_note(kind: str | None) -> str:
    """Said above an answer read from a photo's or file's caption."""
    return CAPTION_NOTES.get(kind or "", f"{NON_TEXT.get(kind or '', '这类消息')}本身我看不了，下面按您附的文字回答。")


def non_text_reply(kind: str | None) -> str:
    what = NON_TEXT.get(kind or "", "这类消息")
    return (f"我暂时看不懂{what}，只能看懂文字问题。请直接打字提问，例如“医疗互助怎么参加”；"
            f"找驿站请发送位置或 /stations。")
