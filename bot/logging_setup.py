"""Log lines as key=value, with the bot token and webhook secret never written out.

Why here (not with the Telegram code): the CLI configures logging before anything
else starts, and the redaction knows only strings, not Telegram.
"""
from __future__ import annotations

import logging
import sys

from .config import Settings

LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


class RedactSecrets(logging.Filter):
    """Replaces the bot token (and the webhook secret) in every record, tracebacks included."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        parts: set[str] = set()
        for s in secrets:
            if s:
                parts.add(s)
                if ":" in s:
                    parts.add(s.split(":", 1)[1])     # the secret half of a token; the bot id is public
        self.secrets = sorted((p for p in parts if len(p) >= 4), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for s in self.secrets:
            if s in text:
                text = text.replace(s, "<redacted>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:        # a broken format string is not ours to fix here
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def configure_logging(settings: Settings) -> RedactSecrets:
    """key=value lines at LOG_LEVEL; httpx (which logs URLs with the token) only from WARNING."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(stream=sys.stderr)
    root.setLevel(settings.log_level)
    redactor = RedactSecrets([settings.telegram_bot_token or "", settings.webhook_secret or ""])
    for handler in root.handlers:
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    sys.excepthook = _log_uncaught
    return redactor


def _log_uncaught(kind, value, traceback) -> None:
    """An error nobody caught is logged like any other line, so it is redacted too (Python's own
    traceback printer would write the token of, say, PTB's InvalidToken message in full)."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, traceback)
        return
    logging.getLogger("bot").critical("uncaught %s", kind.__name__, exc_info=(kind, value, traceback))
