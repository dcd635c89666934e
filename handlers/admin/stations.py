"""Stations: list by district, add one from a shared location, edit one field, retire."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin import AdminError
from handlers import callbacks as cb
from handlers.common import answer_callback
from knowledge.model import Station
from knowledge.station_files import DISTRICT_BOXES

from . import views
from .auth import admin_only
from .common import END, admin_service, draft, drop_draft, run, send, show, station_by_ref, user_id, write
from .steps import Flow, Retry, Step, district_buttons, located, send_preview, typed

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
    return await FLOW.start(update, context, FLOW.fields, is_new=True, station=asdict(blank),
                            intro="➕ 新增驿站：先发位置，再回答名称、地址、开放时间、服务和区县，最后预览确认。")


@admin_only
async def start_edit(update: Update, context: ContextTypes.DEFAULT_TYPE):
    return await FLOW.start_edit(update, context, station_by_ref, "这个驿站已不存在。",
                                 lambda station, _key: {"is_new": False, "station": asdict(station)})


def _showing(text: str, field: str, shown: Callable[[Any], str] = str) -> Callable[[Any, dict], str]:
    """A prompt that shows the field's current value, if it has one."""
    def ask(_context, current: dict) -> str:
        value = current["station"][field]
        return text + (f"\n现在是：{shown(value)}" if value else "")
    return ask


def _ask_district(_context, current: dict):
    station = current["station"]
    guess = station["district"] or guess_district(station["latitude"], station["longitude"])
    hint = f"（按位置看像是{guess}）" if guess and not station["district"] else ""
    return f"请选择驿站所在的区县{hint}：", views.district_picker(guess, allow_none=False)


def _position(location, _current: dict) -> tuple[float, float]:
    return round(location.latitude, 6), round(location.longitude, 6)


def _set_position(current: dict, position: tuple[float, float]) -> None:
    current["station"]["latitude"], current["station"]["longitude"] = position


def _short(text: str, _current: dict | None = None) -> str:
    if len(text) > MAX_TEXT:
        raise Retry(f"太长了（最多 {MAX_TEXT} 个字），请重新发送：")
    return text


def _name(text: str, _current: dict) -> str:
    if not text:
        raise Retry()          # nothing to say to an empty message (Telegram does not send one anyway)
    return _short(text)


def _optional(text: str, _current: dict) -> str | None:
    text = _short(text)
    return None if not text or text in EMPTY_WORDS else text


def _services(text: str, current: dict) -> list[str]:
    services = [] if _optional(text, current) is None else [s for s in re.split(r"[、，,;；/\s]+", text) if s]
    return list(dict.fromkeys(services))


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
    return await send_preview(update, context, views.station_preview(station, problems, current["is_new"]),
                              views.confirm_markup(not fatal, views.STATION_FIELDS))


FLOW = Flow(
    kind="station",
    values="station",
    preview=show_preview,
    steps=(
        Step("l", "s_location", "请发送驿站的位置：点 📎 → 位置，把地图上的点移到驿站门口再发送。",
             (located(_position),), _set_position),
        Step("n", "s_name", _showing("请发送驿站名称，例如“临平区某某街道爱心驿站”：", "name"),
             (typed(_name),), "name"),
        Step("a", "s_address", _showing("请发送详细地址（没有请发“无”）：", "address"),
             (typed(_optional),), "address"),
        Step("h", "s_hours", _showing("请发送开放时间，例如“8:00-20:00”（不清楚请发“无”）：", "hours"),
             (typed(_optional),), "hours"),
        Step("v", "s_services",
             _showing("请发送提供的服务，用顿号或逗号隔开，例如“休息、饮水、手机充电”（没有请发“无”）：", "services",
                      "、".join),
             (typed(_services),), "services"),
        Step("d", "s_district", _ask_district, (district_buttons(required=True),), "district"),
    ),
)


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
