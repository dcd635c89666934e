"""Webhook mode: deliver queued updates to the bot's URL like Telegram does, or on a test's demand."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from .records import UNSET, BotState, json_bytes, update_type


class WebhookDelivery:
    """A delivery thread per bot with a webhook (in order, retried until 2xx) and post_webhook for tests."""

    def post_webhook(self, update: dict, *, url: str | None = None, secret_token: Any = UNSET,
                     token: str | None = None, timeout: float = 5.0) -> int:
        """POST ``update`` to the bot's webhook like Telegram; return the HTTP status.

        ``url`` defaults to the URL from setWebhook; ``secret_token`` defaults to the
        one from setWebhook (pass None to omit the header, or a wrong string).
        Blocking: from async tests use post_webhook_async.
        """
        with self._lock:
            hook = self._bot(token).webhook or {}
        url = url or hook.get("url")
        if not url:
            raise ValueError("no webhook URL: pass url= or let the bot call setWebhook first")
        if secret_token is UNSET:
            secret_token = hook.get("secret_token")
        return post_json(url, update, secret_token, timeout)

    async def post_webhook_async(self, update: dict, **kwargs: Any) -> int:
        return await asyncio.to_thread(self.post_webhook, update, **kwargs)

    def _ensure_webhook_worker(self, bot: BotState) -> None:
        if bot.webhook_thread is None or not bot.webhook_thread.is_alive():
            bot.webhook_thread = threading.Thread(
                target=self._webhook_loop, args=(bot,), name="LocalBotApi-webhook", daemon=True
            )
            bot.webhook_thread.start()

    def _filter_allowed(self, bot: BotState) -> None:
        if bot.allowed_updates:
            allowed = set(bot.allowed_updates)
            bot.updates = [u for u in bot.updates if update_type(u) in allowed]

    def _webhook_loop(self, bot: BotState) -> None:
        """Deliver queued updates to the webhook in order, like Telegram (retry until 2xx)."""
        backoff = 0.05
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    self._filter_allowed(bot)
                    ready = bot.webhook is not None and bot.updates
                    wait = bot.webhook_retry_at - time.monotonic() if ready else 1.0
                    if ready and wait <= 0:
                        break
                    self._cond.wait(min(max(wait, 0.005), 1.0))
                update = bot.updates[0]
                url, secret = bot.webhook["url"], bot.webhook.get("secret_token")
            status = post_json(url, update, secret, 10.0)
            with self._cond:
                bot.webhook_deliveries.append({"update_id": update["update_id"], "status": status, "time": time.time()})
                if 200 <= status < 300:
                    if bot.updates and bot.updates[0] is update:
                        bot.updates.pop(0)
                    backoff, bot.webhook_retry_at = 0.05, 0.0
                else:
                    bot.webhook_retry_at = time.monotonic() + backoff
                    backoff = min(backoff * 2, 2.0)
                self._cond.notify_all()


NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_json(url: str, update: dict, secret_token: str | None, timeout: float) -> int:
    """POST an update like Telegram does (exact 'application/json' content type); 0 = no connection."""
    headers = {"Content-Type": "application/json"}  # PTB's webhook handler rejects any other value
    if secret_token is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    request = urllib.request.Request(url, data=json_bytes(update), headers=headers, method="POST")
    try:
        with NO_PROXY_OPENER.open(request, timeout=timeout) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0
