"""Start-up errors never print the token (issue 12, #1)."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logging_setup import RedactSecrets, _log_uncaught
from local_bot_api import ServerProcess

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_rejected_token_is_reported_without_printing_it(tmp_path):
    """401 (unknown token) and 404 (a wrong base URL) at start-up: a clear line, exit 1, no token."""
    token = "4242:REJECTED-secret_half"
    with ServerProcess("1:some-other-token") as server:
        for base in (server.url, f"{server.url}/not-the-root"):
            env = {**os.environ, "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": base,
                   "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"}
            env.pop("WEBHOOK_URL", None)
            done = subprocess.run([sys.executable, str(ROOT / "run_bot.py"), "run"], env=env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=60)
            output = done.stdout + done.stderr
            assert done.returncode == 1 and "REJECTED-secret_half" not in output
            assert "rejected the token" in output and "Traceback" not in output


def test_an_uncaught_error_goes_through_the_redacting_log(caplog):
    token = "4242:UNCAUGHT-secret_half"
    try:
        raise RuntimeError(f"The token `{token}` was rejected by the server.")
    except RuntimeError:
        with caplog.at_level(logging.CRITICAL, logger="bot"):
            _log_uncaught(*sys.exc_info())
    [record] = caplog.records
    assert record.levelno == logging.CRITICAL and record.exc_info
    RedactSecrets([token]).filter(record)
    text = logging.Formatter().format(record)
    assert "UNCAUGHT-secret_half" not in text and "<redacted>" in text and "RuntimeError" in text
