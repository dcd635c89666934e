"""Test controls: injected failures, blocked users, chat members, and reading back what the bot left."""

from __future__ import annotations

import copy
import json
from typing import Any

from ..records import FaultPlan, Injection, chat_member, fault_error


class Controls:
    """fail_next, drop_next, delay_next, inject_faults, block_user, set_chat_member; chat_history,
    webhook_info, commands ... to inspect."""

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
        error = fault_error(status, retry_after, description, parameters)
        with self._lock:
            self._injections.append(Injection(method.lower(), token, count, error=error))

    def drop_next(self, method: str, count: int = 1, *, token: str | None = None) -> None:
        """The next ``count`` calls of ``method`` are not carried out: the connection closes without an
        answer (a proxy or load balancer losing the request). Recorded with status 0."""
        with self._lock:
            self._injections.append(Injection(method.lower(), token, count, drop=True))

    def delay_next(self, method: str, seconds: float, count: int = 1, *, token: str | None = None) -> None:
        """The next ``count`` calls of ``method`` are carried out at once, but answered ``seconds`` later
        (a slow but delivered send)."""
        with self._lock:
            self._injections.append(Injection(method.lower(), token, count, delay=float(seconds)))

    def inject_faults(self, method: str, rate: float, *, kinds: list[str] | tuple[str, ...] = (
            "429", "500", "502", "drop", "slow"), slow: tuple[float, float] | list[float] = (0.5, 2.0),
            seed: int | None = None, token: str | None = None) -> None:
        """From now on a share ``rate`` of the calls of ``method`` meets a random fault, each kind equally
        likely (records.FaultPlan: an HTTP status, "drop" or "slow"); ``rate=0`` stops it. A 429 says
        retry after 1 s. Queued faults (fail_next ...) come first. ``fault_counts`` tells what was injected."""
        import random

        kinds = tuple(str(k) for k in kinds)
        for kind in kinds:
            if kind not in ("drop", "slow") and not (kind.isdigit() and 400 <= int(kind) <= 599):
                raise ValueError(f"unknown fault kind {kind!r}")
        key = (method.lower(), token)
        with self._lock:
            if rate <= 0:
                self._fault_plans.pop(key, None)
                return
            lo, hi = slow
            self._fault_plans[key] = FaultPlan(method.lower(), token, float(rate), kinds, (float(lo), float(hi)),
                                               random.Random(seed))

    def fault_counts(self, method: str, *, token: str | None = None) -> dict[str, int]:
        """How many faults of each kind inject_faults has injected into ``method`` so far."""
        with self._lock:
            plan = self._fault_plans.get((method.lower(), token))
            return dict(plan.counts) if plan else {}

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
