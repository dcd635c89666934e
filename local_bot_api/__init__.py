"""Local fake Telegram Bot API server for end-to-end tests and benchmarks.

Why: lets the real python-telegram-bot stack (polling, webhooks, rate limiter,
file downloads) run against 127.0.0.1 with full control over updates, recorded
calls and injected failures.  Stdlib only.

In-process::

    from local_bot_api import LocalBotApi
    with LocalBotApi() as api:
        app = api.application_builder().build()
        api.push_message(42, "hi")
        api.wait_for("sendMessage", match={"chat_id": 42})

Other process: ``python -m local_bot_api --port 0 --token T`` (first stdout line
is the URL) + ``RemoteBotApi(url)``, or ``ServerProcess`` to do both.

Test helpers (push_*, wait_for*, fail_next ...) live in local_bot_api/testing/,
Bot API methods in local_bot_api/methods/; server.py says where the rest is.
"""

from .client import RemoteBotApi, ServerProcess
from .server import DEFAULT_TOKEN, ApiError, Call, LocalBotApi, StoredFile, UploadedFile

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Call",
    "LocalBotApi",
    "RemoteBotApi",
    "ServerProcess",
    "StoredFile",
    "UploadedFile",
]
