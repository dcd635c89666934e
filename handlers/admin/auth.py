"""Every admin command, button and upload asks the database who is an admin, every time.

Why every time: an admin removed a minute ago must not keep going through an
old menu, and a non-admin replaying a button's data must change nothing. A
refusal is polite, logged, and kept in the audit log (action "refused").
"""
from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from .common import END, REFUSAL, admin_service, describe, drop_draft, log, run

Handler = Callable[..., Awaitable[Any]]


async def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return user is not None and await run(admin_service(context).is_admin, user.id)


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    what = describe(update)
    log.warning("admin action refused user=%s what=%s", user.id if user else None, what)
    await run(admin_service(context).record_refusal, user.id if user else None, what)
    drop_draft(context)
    query = update.callback_query
    if query is not None:
        try:
            await query.answer(REFUSAL, show_alert=True)
        except BadRequest as exc:          # an expired button: nothing to answer
            log.info("callback answer skipped: %s", exc.message)
        return
    if update.effective_message is not None:
        await update.effective_message.reply_text(REFUSAL)


def admin_only(handler: Handler) -> Handler:
    """Runs the handler for admins; refuses everyone else (and ends any conversation)."""

    @functools.wraps(handler)
    async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE, *args: Any, **kwargs: Any) -> Any:
        if await is_admin(update, context):
            return await handler(update, context, *args, **kwargs)
        await refuse(update, context)
        return END

    return checked


def admin_or(member_handler: Handler) -> Callable[[Handler], Handler]:
    """For uploads members send too (a .txt, .csv or .docx): admins get the admin tool, anyone else is
    answered like any member's file (``member_handler``), with no refusal and no audit row."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE, *args: Any, **kwargs: Any) -> Any:
            if await is_admin(update, context):
                return await handler(update, context, *args, **kwargs)
            await member_handler(update, context)
            return END

        return checked

    return wrap
