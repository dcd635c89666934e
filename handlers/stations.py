"""Riders: a shared location (or /stations) -> the nearest rest stations, the closest as a map pin."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from knowledge.districts import canonical_district

from . import callbacks as cb
from . import render
from .common import answer_callback, edit_or_send
from .services import services

log = logging.getLogger("bot.stations")
NEAREST = 5
FAR_KM = 50.0          # beyond this the stations are not "nearby" for a rider


async def stations_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Without a location: offer the location button and list stations by district."""
    svc = services(context)
    user = update.effective_user
    message = update.effective_message
    arg = " ".join(context.args or []).strip() if context.args else ""
    district = canonical_district(arg) or await svc.district_of(user.id if user else None)
    private = message.chat.type == "private"
    if private:
        await message.reply_text(render.LOCATION_PROMPT, reply_markup=render.location_keyboard())
    index = await svc.stations()
    text, markup = render.district_stations_message(index.in_district(district) if district else [], district,
                                                    in_group=not private)
    await message.reply_text(text, reply_markup=markup)


async def location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    loc = message.location
    index = await services(context).stations()
    found = index.nearest(loc.latitude, loc.longitude, k=NEAREST)
    user = update.effective_user
    log.info("stations user=%s found=%d nearest_km=%s examined=%d", user.id if user else None, len(found),
             f"{found[0].distance_km:.2f}" if found else None, index.examined)
    text, markup = render.nearby_message(found, FAR_KM)
    if found and found[0].distance_km <= FAR_KM:
        await message.reply_venue(**render.venue_fields(found[0].station))
    await message.reply_text(text, reply_markup=markup)


async def station_tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, args = cb.parse(query.data)
    index = await services(context).stations()
    station_id = cb.table_for("station", index.version, index, index.by_id).resolve(args[0]) if args else None
    station = index.by_id.get(station_id) if station_id else None
    if station is None:
        await answer_callback(query, "这个驿站已不在列表中，请重新发送位置。")
        return
    await answer_callback(query)
    # An example is marked in the venue's own title and address (a venue has no caption).
    await context.bot.send_venue(update.effective_chat.id, **render.venue_fields(station))


async def district_tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, args = cb.parse(query.data)
    ok, district = cb.district_from(args[0] if args else "")
    if not ok:
        await answer_callback(query, "这个按钮已失效，请重新发送 /stations")
        return
    index = await services(context).stations()
    in_group = update.effective_chat is not None and update.effective_chat.type != "private"
    text, markup = render.district_stations_message(index.in_district(district) if district else [], district,
                                                    in_group=in_group)
    await answer_callback(query)
    await edit_or_send(update, context, text, markup)
