"""Settings are checked strictly at start-up: a bad value is named, explained in Chinese, exit code 2."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from bot.config import MAX_TELEGRAM_ID, describe_settings_error, load_settings
from tests.conftest import ROOT

BAD = [
    ("ADMIN_IDS", "0"), ("ADMIN_IDS", "-5"), ("ADMIN_IDS", "1_000"), ("ADMIN_IDS", "１２３"),
    ("ADMIN_IDS", str(2 ** 63)), ("ADMIN_IDS", str(2 ** 52)), ("ADMIN_IDS", "12,abc"), ("ADMIN_IDS", "1.5"),
    ("ADMIN_IDS", "٣٤"), ("ADMIN_IDS", "+7"),
    ("ADMIN_CONVERSATION_TIMEOUT", "inf"), ("ADMIN_CONVERSATION_TIMEOUT", "nan"), ("ADMIN_CONVERSATION_TIMEOUT", "0"),
    ("ADMIN_CONVERSATION_TIMEOUT", "-1"), ("ADMIN_CONVERSATION_TIMEOUT", "1e9"), ("ADMIN_CONVERSATION_TIMEOUT", "６0"),
    ("KB_REFRESH_SECONDS", "inf"), ("KB_REFRESH_SECONDS", "nan"), ("KB_REFRESH_SECONDS", "-1"),
    ("KB_REFRESH_SECONDS", "1e308"),
    ("TELEGRAM_RATE_LIMIT_PER_SECOND", "nan"), ("TELEGRAM_RATE_LIMIT_PER_SECOND", "1e308"),
    ("TELEGRAM_RATE_LIMIT_PER_SECOND", "-1"), ("TELEGRAM_RATE_LIMIT_PER_SECOND", "Infinity"),
    ("FLOOD_LIMIT_PER_MINUTE", "1_000"), ("FLOOD_LIMIT_PER_MINUTE", "9" * 30), ("FLOOD_LIMIT_PER_MINUTE", "0"),
    ("FLOOD_LIMIT_PER_MINUTE", "１０"),
    ("TELEGRAM_CONCURRENT_UPDATES", "4.0"), ("TELEGRAM_CONCURRENT_UPDATES", "0"),
    ("TELEGRAM_CONCURRENT_UPDATES", "1e3"),
    ("WEBHOOK_PORT", "0"), ("WEBHOOK_PORT", "70000"), ("WEBHOOK_PORT", "8_443"),
    ("WEBHOOK_LISTEN", "not an address"), ("WEBHOOK_PATH", "../etc"), ("WEBHOOK_PATH", "a b"),
]


@pytest.mark.parametrize("name,value", BAD)
def test_a_bad_value_is_refused_and_named_in_chinese(name, value):
    with pytest.raises(ValidationError) as err:
        load_settings(_env_file=None, **{name: value})
    lines = describe_settings_error(err.value)
    assert lines and all(name in line for line in lines), lines
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in line) for line in lines), lines
    assert not any("Input should" in line or "Value error" in line for line in lines), lines


@pytest.mark.parametrize("value,expected", [
    ("12345,67890", [12345, 67890]), (" 12345 ", [12345]), ("12345，67890；42", [12345, 67890, 42]),
    (str(MAX_TELEGRAM_ID), [MAX_TELEGRAM_ID]), ("7,7", [7]), ("", []),
])
def test_good_admin_ids_are_read(value, expected):
    assert load_settings(_env_file=None, ADMIN_IDS=value).admin_ids == expected


def test_good_numbers_are_read():
    s = load_settings(_env_file=None, ADMIN_CONVERSATION_TIMEOUT="90.5", KB_REFRESH_SECONDS="0",
                      TELEGRAM_RATE_LIMIT_PER_SECOND="0", FLOOD_LIMIT_PER_MINUTE=" 30 ", WEBHOOK_PORT="8443",
                      WEBHOOK_LISTEN="::", WEBHOOK_PATH="telegram/hook-1")
    assert (s.admin_conversation_timeout, s.kb_refresh_seconds, s.flood_limit_per_minute) == (90.5, 0, 30)


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "ADMIN_IDS")}
    return subprocess.run([sys.executable, "run_bot.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**full, **env})


def test_start_up_with_a_bad_setting_exits_2_without_a_traceback(tmp_path):
    out = _run({"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "ADMIN_IDS": str(2 ** 63)}, "db", "upgrade")
    assert out.returncode == 2, out.stderr[-2000:]
    assert "ADMIN_IDS" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("name,value", [("ADMIN_CONVERSATION_TIMEOUT", "inf"), ("ADMIN_IDS", "0"),
                                        ("KB_REFRESH_SECONDS", "nan")])
def test_every_command_refuses_a_bad_setting_with_exit_2(tmp_path, monkeypatch, capsys, name, value):
    from bot.cli import main
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_:
        main(["db", "upgrade"])
    assert exit_.value.code == 2 and name in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-5", str(2 ** 63), "1_000", "１２３"])
def test_admin_add_refuses_an_impossible_telegram_id(value, capsys):
    from bot.cli import main
    with pytest.raises(SystemExit) as exit_:
        main(["admin", "add", "--", value])
    assert exit_.value.code == 2 and "Telegram" in capsys.readouterr().err
