"""The admin tools in Telegram: /admin menu, guided edits, imports, stations, documents, admins, stats.

`register_admin(application)` is called right after the flood guard, so the
admin conversation sees an admin's replies before the generic question handler
does. Everything is private-chat only, and every command, button and upload
checks the admins table on every call (handlers.admin.auth). The handlers are
thin: all decisions and writes are bot.admin.AdminService's.

One ConversationHandler holds every guided edit (per user and chat, a time-out,
/cancel at any step, re-entry: a new menu action replaces an unfinished one);
the rest are plain commands and one router for the "ad:" buttons. A guided edit
is a steps.Flow that its module describes (entries.FLOW, stations.FLOW,
documents.FLOW, admins.FLOW): each Step's prompt, the replies it takes and the
value it fills; the flow makes the conversation states used below.
"""
from __future__ import annotations

import logging
import warnings

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from handlers.addressing import GROUPS, NEW_MESSAGE, PRIVATE
from handlers.common import answer_callback
from handlers.services import KEY

from . import admins, documents, entries, files, menu, stations, stats, unanswered
from .auth import admin_only
from .common import ALT_TARGET, CONFIRM, D_FILE, END, SEARCH, STALE, draft, parse
from .steps import TEXT_REPLY

__all__ = ["ADMIN_COMMANDS", "register_admin"]

log = logging.getLogger("bot.admin")
ADMIN_COMMANDS = ("admin", "unanswered", "export", "stats", "admins")

_CONFIRM = {"entry": entries.confirm, "station": stations.confirm, "document": documents.confirm,
            "admin": admins.confirm}
_FLOWS = (entries.FLOW, stations.FLOW, documents.FLOW, admins.FLOW)   # the guided edits (steps.Flow)
_FIX = {flow.kind: flow.fix for flow in _FLOWS}


@admin_only
async def _confirm(update: Update, context: ContextTypes.DEFAULT_TYPE):
    handler = _CONFIRM.get((draft(context) or {}).get("kind"))
    if handler is None:
        await answer_callback(update.callback_query, STALE)
        return END
    return await handler(update, context)


@admin_only
async def _fix(update: Update, context: ContextTypes.DEFAULT_TYPE):
    _, args = parse(update.callback_query.data)
    handler = _FIX.get((draft(context) or {}).get("kind"))
    if handler is None or not args:
        await answer_callback(update.callback_query, STALE)
        return None
    await answer_callback(update.callback_query)
    return await handler(update, context, args[0])


# Buttons that need no conversation: (verb, first argument or None) -> handler(update, context, args).
_MENU = {"": menu.show_menu, "u": unanswered.show_unanswered, "i": files.import_help, "x": files.export,
         "st": stations.stations_menu, "t": stats.show_stats, "a": admins.show_admins}
_ROUTES = {
    "v": entries.view, "rt": entries.retire_ask, "ry": entries.retire, "ra": entries.reactivate,
    "h": entries.history, "rs": entries.restore,
    "sl": stations.station_list, "sv": stations.station_view, "sr": stations.retire_ask, "sy": stations.retire,
    "ar": admins.remove_ask, "ay": admins.remove,
}


@admin_only
async def _route(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every other "ad:" button; an unknown or out-of-step one is stale (nothing changes)."""
    query = update.callback_query
    verb, args = parse(query.data)
    if verb == "m" and (args[0] if args else "") in _MENU:
        await answer_callback(query)
        await _MENU[args[0] if args else ""](update, context, args[1:])
        return
    handler = _ROUTES.get(verb)
    if handler is None:
        await answer_callback(query, "当前没有进行中的操作。" if verb in ("ok", "no") else STALE)
        return
    toast = await handler(update, context, args)
    await answer_callback(query, toast)


def _suffixes(*names: str) -> filters.BaseFilter:
    found = filters.Document.FileExtension(names[0])
    for name in names[1:]:
        found |= filters.Document.FileExtension(name)
    return found


def build_conversation(timeout_seconds: float | None, persistent: bool = False) -> ConversationHandler:
    """``persistent``: the step of each admin's guided edit is kept in the database
    (handlers.persistence), so a restart does not drop it."""
    private = NEW_MESSAGE & PRIVATE
    text = TEXT_REPLY

    def button(callback, pattern: str) -> CallbackQueryHandler:
        return CallbackQueryHandler(callback, pattern=pattern)

    with warnings.catch_warnings():
        # Buttons are tracked per user and chat, not per message, on purpose: an admin may answer a
        # prompt from any earlier message of the same guided edit.
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            name="admin",
            entry_points=[
                CommandHandler("admin", menu.admin_command, filters=private),
                button(entries.start_search, r"^ad:m:s$"),
                button(entries.start_add, r"^ad:m:n$"),
                button(entries.start_edit, r"^ad:e:"),
                button(unanswered.as_alternate, r"^ad:ua:"),
                button(unanswered.as_new_entry, r"^ad:un:"),
                button(stations.start_add, r"^ad:sa$"),
                button(stations.start_edit, r"^ad:se:"),
                button(documents.start, r"^ad:m:d$"),
                MessageHandler(private & _suffixes("txt", "docx"), documents.file_received),
                button(admins.start_add, r"^ad:aa$"),
            ],
            states={
                SEARCH: [MessageHandler(text, entries.search_text)],
                CONFIRM: [button(_confirm, r"^ad:ok$"), button(_fix, r"^ad:pf:")],
                ALT_TARGET: [MessageHandler(text, unanswered.search_target),
                             button(unanswered.target_chosen, r"^ad:ut:")],
                D_FILE: [MessageHandler(NEW_MESSAGE & filters.Document.ALL, documents.file_received)],
                **{state: handlers for flow in _FLOWS for state, handlers in flow.states().items()},
                ConversationHandler.TIMEOUT: [TypeHandler(Update, menu.timed_out_handler(timeout_seconds or 0))],
            },
            fallbacks=[
                CommandHandler("cancel", menu.cancel),
                button(menu.cancel, r"^ad:no$"),
                MessageHandler(NEW_MESSAGE & ~filters.COMMAND, menu.unexpected),
            ],
            per_user=True,
            per_chat=True,
            allow_reentry=True,
            conversation_timeout=timeout_seconds,
            persistent=persistent,
        )


def register_admin(application: Application) -> None:
    """Adds the admin handlers (call before the generic message handlers, after the flood guard)."""
    timeout = application.bot_data[KEY].app.settings.admin_conversation_timeout if KEY in application.bot_data \
        else 600.0
    if application.job_queue is None:
        log.warning("no JobQueue (install python-telegram-bot[job-queue]): admin edits will not time out")
        timeout = None
    application.add_handler(build_conversation(timeout, persistent=application.persistence is not None))
    private = NEW_MESSAGE & PRIVATE
    for name, callback in (("unanswered", unanswered.unanswered_command), ("export", files.export_command),
                           ("stats", stats.stats_command), ("admins", admins.admins_command),
                           ("cancel", menu.cancel_outside)):
        application.add_handler(CommandHandler(name, callback, filters=private))
    application.add_handler(CommandHandler((*ADMIN_COMMANDS, "cancel"), menu.in_group,
                                           filters=NEW_MESSAGE & GROUPS))
    application.add_handler(MessageHandler(private & _suffixes("yaml", "yml", "csv"), files.import_upload))
    application.add_handler(MessageHandler(private & filters.Document.ALL, files.other_document))
    application.add_handler(CallbackQueryHandler(_route, pattern=r"^ad:"))
