"""Bot API methods: getMe, getUpdates, webhooks, the command menu."""

from __future__ import annotations

import json
import time
from typing import Any

from ..records import (
    Aborted,
    ApiError,
    Request,
    as_int,
)

MAX_POLL_TIMEOUT = 50.0
ALIVE_CHECK_INTERVAL = 0.25


class UpdateMethods:
    """Each ``_api_<methodName>`` runs under the state lock and returns the "result"."""

    def _api_getMe(self, r: Request) -> dict:
        return dict(r.bot.user)

    def _api_logOut(self, r: Request) -> bool:
        return True

    def _api_close(self, r: Request) -> bool:
        return True

    def _api_getUpdates(self, r: Request) -> list[dict]:
        bot, p = r.bot, r.params
        if bot.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = as_int(p.get("offset"), 0)
        limit = max(1, min(100, as_int(p.get("limit"), 100)))
        try:
            timeout = max(0.0, min(float(p.get("timeout") or 0), MAX_POLL_TIMEOUT))
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: invalid timeout") from None
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            bot.allowed_updates = list(allowed) or None
        if offset > 0:
            idx = 0
            while idx < len(bot.updates) and bot.updates[idx]["update_id"] < offset:
                idx += 1
            del bot.updates[:idx]
        elif offset < 0:
            del bot.updates[: max(0, len(bot.updates) + offset)]
        self._filter_allowed(bot)
        bot.poll_seq += 1
        mine = bot.poll_seq
        if bot.updates or timeout <= 0:
            return bot.updates[:limit]
        deadline = time.monotonic() + timeout
        bot.waiting_polls += 1
        self._notify()
        try:
            while not bot.updates:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                if self._stopping:
                    raise Aborted
                if bot.poll_seq != mine:  # a newer getUpdates for this token arrived
                    if not r.alive():
                        raise Aborted
                    raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure "
                                        "that only one bot instance is running")
                self._cond.wait(min(remaining, ALIVE_CHECK_INTERVAL))
                if not r.alive():
                    raise Aborted
                self._filter_allowed(bot)
        finally:
            bot.waiting_polls -= 1
        return bot.updates[:limit]

    def _api_setWebhook(self, r: Request) -> bool:
        p, bot = r.params, r.bot
        url = p.get("url") or ""
        if not url:  # setWebhook with empty url == deleteWebhook
            bot.webhook = None
            return True
        if not str(url).startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        bot.webhook = {k: v for k, v in p.items() if k != "drop_pending_updates"}
        if isinstance(p.get("allowed_updates"), list):
            bot.allowed_updates = list(p["allowed_updates"]) or None
        if p.get("drop_pending_updates"):
            bot.updates.clear()
        bot.webhook_retry_at = 0.0
        self._ensure_webhook_worker(bot)
        return True

    def _api_deleteWebhook(self, r: Request) -> bool:
        r.bot.webhook = None
        if r.params.get("drop_pending_updates"):
            r.bot.updates.clear()
        return True

    def _api_getWebhookInfo(self, r: Request) -> dict:
        bot = r.bot
        hook = bot.webhook or {}
        info: dict[str, Any] = {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(bot.updates),
        }
        if hook:
            info["max_connections"] = hook.get("max_connections", 40)
            if hook.get("ip_address"):
                info["ip_address"] = hook["ip_address"]
            if bot.allowed_updates:
                info["allowed_updates"] = bot.allowed_updates
            failed = [d for d in bot.webhook_deliveries if not 200 <= d["status"] < 300]
            if failed:
                info["last_error_date"] = int(failed[-1]["time"])
                info["last_error_message"] = f"Wrong response from the webhook: {failed[-1]['status']}"
        return info

    # -- commands / menu
    @staticmethod
    def _commands_key(p: dict) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), p.get("language_code") or ""

    def _api_setMyCommands(self, r: Request) -> bool:
        commands = r.params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, 'Bad Request: parameter "commands" is required')
        for cmd in commands:
            name, desc = (cmd or {}).get("command", ""), (cmd or {}).get("description", "")
            valid_name = isinstance(name, str) and 1 <= len(name) <= 32
            if not valid_name or not all(c.islower() or c.isdigit() or c == "_" for c in name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (isinstance(desc, str) and 1 <= len(desc) <= 256):
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        r.bot.commands[self._commands_key(r.params)] = commands
        return True

    def _api_getMyCommands(self, r: Request) -> list:
        return r.bot.commands.get(self._commands_key(r.params), [])

    def _api_deleteMyCommands(self, r: Request) -> bool:
        r.bot.commands.pop(self._commands_key(r.params), None)
        return True

    def _api_setChatMenuButton(self, r: Request) -> bool:
        r.bot.menu_buttons[r.params.get("chat_id")] = r.params.get("menu_button") or {"type": "default"}
        return True

    def _api_getChatMenuButton(self, r: Request) -> dict:
        return r.bot.menu_buttons.get(r.params.get("chat_id"), r.bot.menu_buttons.get(None, {"type": "default"}))
