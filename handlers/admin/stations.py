"""Stations: list by district, add one from a shared location, edit one field, retire."""
from __future__ import annotations

import re
from dataclasses import asdict

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin import AdminError
from handlers import callbacks as cb
from handlers.common import answer_callback
from knowledge.model import Station
from knowledge.station_files import DISTRICT_BOXES

from . import views
from .auth import admin_only
from .common import (
    CONFIRM,
    END,
    S_ADDRESS,
    S_DISTRICT,
    S_HOURS,
    S_LOCATION,
    S_NAME,
    S_SERVICES,
    admin_service,
    draft,
    drop_draft,
    new_draft,
    next_step,
    parse,
    prompt,
    run,
    send,
    show,
    station_by_ref,
    user_id,
    write,
)

FIELD_STATE = {"l": S_LOCATION, "n": S_NAME, "a": S_ADDRESS, "h": S_HOURS, "v": S_SERVICES, "d": S_DISTRICT}
ADD_ORDER = ["l", "n", "a", "h", "v", "d"]
EMPTY_WORDS = {"无", "没有", "-", "—", "暂无", "不详"}
MAX_TEXT = 200


def guess_district(latitude: float, longitude: float) -> str | None:
    for name, (lat0, lat1, lon0, lon1) in DISTRICT_BOXES.items():
        if lat0 <= latitude <= lat1 and lon0 <= longitude <= lon1:
            return name
    return None


# ---------------------------------------------------------------- browsing
async def stations_menu(update: Update, context: ContextTypes.DEFAULT_TYPE, _args=None) -> None:
    stations = await run(admin_service(context).stations)
    await show(update, context, *views.stations_menu(stations))


async def station_list(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> str | None:
    ok, district = cb.district_from(args[0] if args else "")
    if not ok or district is None:
        return "这个按钮已失效。"
    stations = await run(admin_service(context).stations, district)
    await show(update, context, *views.station_list(stations, district))
    return None


async def station_view(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> str | None:
    station = await station_by_ref(context, args[0] if args else "")
    if station is None:
        return "这个驿站已不存在。"
    await send(update, context, views.station_text(station), views.station_markup(station))
    return None


async def retire_ask(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> str | None:
    station = await station_by_ref(context, args[0] if args else "")
    if station is None:
        return "这个驿站已不存在。"
    ref = cb.ref_of(station.id)
    await send(update, context, f"确定停用驿站“{station.name}”吗？停用后“附近驿站”不再显示它。",
               views.keyboard([[views.button("⛔ 确认停用", "sy", ref), views.button("返回", "sv", ref)]]))
    return None


async def retire(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> str | None:
    station = await station_by_ref(context, args[0] if args else "")
    if station is None or not station.active:
        return "这个驿站已不存在或已停用。"
    retired = await write(context, admin_service(context).retire_station, station.id, user_id(update))
    await send(update, context, views.station_text(retired, f"⛔ 已停用驿站“{retired.name}”。"))
    return "已停用"


# ---------------------------------------------------------------- guided add / edit
@admin_only
async def start_add(update: Update, context: ContextTypes.DEFAULT_TYPE):
    await answer_callback(update.callback_query)
    blank = Station(id="", name="", district=None, latitude=0.0, longitude=0.0)
    new_draft(context, "station", is_new=True, station=asdict(blank), queue=list(ADD_ORDER))
    await send(update, context, "➕ 新增驿站：先发位置，再回答名称、地址、开放时间、服务和区县，最后预览确认。")
    return await advance(update, context)


@admin_only
async def start_edit(update: Update, context: ContextTypes.DEFAULT_TYPE):
    query = update.callback_query
    _, args = parse(query.data)
    field = args[0] if args else ""
    station = await station_by_ref(context, args[1] if len(args) > 1 else "")
    if station is None or field not in FIELD_STATE:
        await answer_callback(query, "这个驿站已不存在。")
        return END
    await answer_callback(query)
    new_draft(context, "station", is_new=False, station=asdict(station), queue=[field])
    return await advance(update, context)


async def fix_field(update: Update, context: ContextTypes.DEFAULT_TYPE, field: str):
    if field not in FIELD_STATE:
        return CONFIRM
    draft(context)["queue"] = [field]
    return await advance(update, context)


async def advance(update: Update, context: ContextTypes.DEFAULT_TYPE):
    return await next_step(update, context, ask_field, show_preview)


async def ask_field(update: Update, context: ContextTypes.DEFAULT_TYPE, field: str):
    station = draft(context)["station"]
    now = {"n": station["name"], "a": station["address"], "h": station["hours"],
           "v": "、".join(station["services"])}.get(field)
    suffix = f"\n现在是：{now}" if now else ""
    if field == "l":
        await prompt(update, context, "请发送驿站的位置：点 📎 → 位置，把地图上的点移到驿站门口再发送。")
    elif field == "n":
        await prompt(update, context, "请发送驿站名称，例如“临平区某某街道爱心驿站”：" + suffix)
    elif field == "a":
        await prompt(update, context, "请发送详细地址（没有请发“无”）：" + suffix)
    elif field == "h":
        await prompt(update, context, "请发送开放时间，例如“8:00-20:00”（不清楚请发“无”）：" + suffix)
    elif field == "v":
        await prompt(update, context, "请发送提供的服务，用顿号或逗号隔开，例如“休息、饮水、手机充电”"
                                      "（没有请发“无”）：" + suffix)
    elif field == "d":
        current = station["district"] or guess_district(station["latitude"], station["longitude"])
        hint = f"（按位置看像是{current}）" if current and not station["district"] else ""
        await prompt(update, context, f"请选择驿站所在的区县{hint}：", views.district_picker(current, allow_none=False))
    return FIELD_STATE[field]


def _text(update: Update) -> str:
    return (update.effective_message.text or "").strip()


async def _too_long(update: Update, text: str) -> bool:
    if len(text) > MAX_TEXT:
        await update.effective_message.reply_text(f"太长了（最多 {MAX_TEXT} 个字），请重新发送：")
        return True
    return False


@admin_only
async def got_location(update: Update, context: ContextTypes.DEFAULT_TYPE):
    location = update.effective_message.location
    station = draft(context)["station"]
    station["latitude"], station["longitude"] = round(location.latitude, 6), round(location.longitude, 6)
    return await advance(update, context)


@admin_only
async def got_name(update: Update, context: ContextTypes.DEFAULT_TYPE):
    text = _text(update)
    if not text or await _too_long(update, text):
        return None
    draft(context)["station"]["name"] = text
    return await advance(update, context)


def _optional(text: str) -> str | None:
    return None if not text or text in EMPTY_WORDS else text


@admin_only
async def got_address(update: Update, context: ContextTypes.DEFAULT_TYPE):
    text = _text(update)
    if await _too_long(update, text):
        return None
    draft(context)["station"]["address"] = _optional(text)
    return await advance(update, context)


@admin_only
async def got_hours(update: Update, context: ContextTypes.DEFAULT_TYPE):
    text = _text(update)
    if await _too_long(update, text):
        return None
    draft(context)["station"]["hours"] = _optional(text)
    return await advance(update, context)


@admin_only
async def got_services(update: Update, context: ContextTypes.DEFAULT_TYPE):
    text = _text(update)
    if await _too_long(update, text):
        return None
    services = [] if _optional(text) is None else [s for s in re.split(r"[、，,;；/\s]+", text) if s]
    draft(context)["station"]["services"] = list(dict.fromkeys(services))
    return await advance(update, context)


@admin_only
async def got_district(update: Update, context: ContextTypes.DEFAULT_TYPE):
    query = update.callback_query
    _, args = parse(query.data)
    ok, name = cb.district_from(args[0] if args else "")
    if not ok or name is None:
        await answer_callback(query, "请选择一个区县")
        return None
    await answer_callback(query, f"区县：{name}")
    draft(context)["station"]["district"] = name
    return await advance(update, context)


def _station(context: ContextTypes.DEFAULT_TYPE, current: dict) -> Station:
    values = current["station"]
    if current["is_new"] and not values["id"]:
        values["id"] = admin_service(context).new_station_id(values["district"], values["name"])
    return Station(**values)


async def show_preview(update: Update, context: ContextTypes.DEFAULT_TYPE):
    current = draft(context)
    station = _station(context, current)
    problems = await run(admin_service(context).check_station, station, current["is_new"])
    fatal = any(p.fatal for p in problems)
    current["prompt"] = "请点预览下面的按钮：确认保存、取消，或修改某一项。"
    await send(update, context, views.station_preview(station, problems, current["is_new"]),
               views.confirm_markup(not fatal, views.STATION_FIELDS))
    return CONFIRM


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE):
    current = draft(context)
    station = _station(context, current)
    try:
        saved = await write(context, admin_service(context).save_station, station, user_id(update), current["is_new"])
    except AdminError:
        await answer_callback(update.callback_query, "还有问题，不能保存")
        return await show_preview(update, context)
    await answer_callback(update.callback_query, "已保存")
    drop_draft(context)
    await send(update, context, views.station_text(saved, "✅ 已保存驿站，“附近驿站”查询现在就能找到它："),
               views.station_markup(saved))
    return END
