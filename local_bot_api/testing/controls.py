"""Test controls: injected failures, blocked users, chat members, and reading back what the bot left."""

from __future__ import annotations

import copy
import json
from typing import Any

from ..records import ApiError, Injection, chat_member


class Controls:
    """fail_next, block_user, set_chat_member; chat_history, webhook_info, commands ... to inspect."""

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: float = 1,
        count: int = 1,
        *,
        description: str | None = None,
        parameters: dict | None = None,
        token: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail (default: 429 flood control).

        Note: PTB only raises RetryAfter when retry_after is truthy (0 -> NetworkError).
        """
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                400: "Bad Request: injected failure",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                409: "Conflict: injected failure",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, f"Error {status}")
        if parameters is None and status == 429:
            parameters = {"retry_after": retry_after}
        with self._lock:
            self._injections.append(Injection(method.lower(), token, count, ApiError(status, description, parameters)))

    def block_user(self, user_id: int, *, token: str | None = None) -> None:
        """Sending to this private chat answers 403 'bot was blocked by the user'."""
        with self._lock:
            self._bot(token).blocked.add(user_id)

    def unblock_user(self, user_id: int, *, token: str | None = None) -> None:
        with self._lock:
            self._bot(token).blocked.discard(user_id)

    def set_chat_member(self, chat_id: int, user_id: int, status: str = "member", *,
                        token: str | None = None, **fields: Any) -> dict:
        """Define what getChatMember returns (status: creator/administrator/member/restricted/left/kicked)."""
        with self._lock:
            bot = self._bot(token)
            user = bot.user if user_id == bot.user["id"] else self._users.get(user_id) or self._user(user_id)
            member = chat_member(dict(user), status, fields)
            bot.members[(chat_id, user_id)] = member
            return copy.deepcopy(member)

    # ------------------------------------------------------------------ reading back
    def chat_history(self, chat_id: int, *, token: str | None = None) -> list[dict]:
        """Current state (after edits/deletes) of all messages in a chat, oldest first."""
        with self._lock:
            bot = self._bot(token)
            keys = sorted(k for k in bot.messages if k[0] == chat_id)
            return [copy.deepcopy(bot.messages[k]) for k in keys]

    def webhook_info(self, *, token: str | None = None) -> dict | None:
        """The last setWebhook parameters (None when no webhook is set)."""
        with self._lock:
            hook = self._bot(token).webhook
            return dict(hook) if hook else None

    def webhook_deliveries(self, *, token: str | None = None) -> list[dict]:
        """Automatic webhook delivery attempts: [{update_id, status, time}]."""
        with self._lock:
            return list(self._bot(token).webhook_deliveries)

    def commands(self, *, scope: dict | None = None, language_code: str = "", token: str | None = None) -> list:
        """Commands stored by setMyCommands for that scope/language."""
        with self._lock:
            key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or "")
            return copy.deepcopy(self._bot(token).commands.get(key, []))
