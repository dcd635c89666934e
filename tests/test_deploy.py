"""The deployment files agree with the code: compose.yaml's settings are ones bot/config.py reads (and
valid), the Dockerfile's Python is a supported one, and the supported versions agree everywhere.

No Docker engine runs here, so the image is not built in the tests (docs/telegram.md says so); these
checks catch what drifts when a setting is renamed or a Python version dropped.
"""
from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from bot.config import Settings, load_settings
from tests.conftest import ROOT

ALIASES = {f.alias for f in Settings.model_fields.values()}
_VAR = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))


def substitute(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}."""
    def one(m: re.Match) -> str:
        name, kind, rest = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if kind == "?":
            raise KeyError(f"{name}: {rest}")
        return rest if kind == "-" else ""
    return _VAR.sub(one, str(value))


def bot_settings(env: dict[str, str]) -> Settings:
    environment = compose()["services"]["bot"]["environment"]
    return load_settings(_env_file=None, **{k: substitute(v, env) for k, v in environment.items()})


def supported_minors() -> tuple[int, int]:
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["requires-python"]
    low = re.search(r">=\s*3\.(\d+)", spec)
    high = re.search(r"<\s*3\.(\d+)", spec)
    return int(low[1]), int(high[1]) - 1


def test_the_bots_environment_in_compose_is_read_by_the_settings():
    environment = compose()["services"]["bot"]["environment"]
    assert set(environment) <= ALIASES, set(environment) - ALIASES
    assert {"DATABASE_URL", "TELEGRAM_BOT_TOKEN", "WEBHOOK_URL", "WEBHOOK_SECRET", "ADMIN_IDS"} <= set(environment)


def test_compose_gives_valid_settings_for_polling_and_for_a_webhook():
    needed = {"TELEGRAM_BOT_TOKEN": "123456:AAE-token_x", "POSTGRES_PASSWORD": "s3cretPw"}
    polling = bot_settings(needed)
    assert polling.webhook_url is None and polling.admin_ids == []
    assert polling.database_url == "postgresql+psycopg://unionbot:s3cretPw@db:5432/unionbot"
    hooked = bot_settings({**needed, "WEBHOOK_URL": "https://bot.example.org/telegram/hook",
                           "WEBHOOK_SECRET": "abc_DEF-1", "ADMIN_IDS": "1,2"})
    assert hooked.webhook_url_path == "telegram/hook" and hooked.admin_ids == [1, 2]
    with pytest.raises(KeyError, match="TELEGRAM_BOT_TOKEN"):
        bot_settings({"POSTGRES_PASSWORD": "x"})


def test_the_bot_waits_for_its_database_and_publishes_the_webhook_port():
    services = compose()["services"]
    db, bot = services["db"], services["bot"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy" and "healthcheck" in db
    url = substitute(bot["environment"]["DATABASE_URL"], {"POSTGRES_PASSWORD": "pw"})
    assert url == f"postgresql+psycopg://{db['environment']['POSTGRES_USER']}:pw@db:5432/" \
                  f"{db['environment']['POSTGRES_DB']}"
    port = int(bot["environment"]["WEBHOOK_PORT"])
    assert any(str(p).endswith(f":{port}") for p in bot["ports"])
    assert f"EXPOSE {port}" in (ROOT / "Dockerfile").read_text("utf-8")


def test_the_image_runs_a_supported_python_as_a_plain_user_like_make_run():
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    minor = int(re.search(r"^FROM python:3\.(\d+)", dockerfile, re.M)[1])
    low, high = supported_minors()
    assert low <= minor <= high
    assert re.search(r'^CMD \["python", "run_bot.py"\]$', dockerfile, re.M)
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    ignored = (ROOT / ".dockerignore").read_text("utf-8").split()
    assert {".env", ".venv", "data"} <= set(ignored)


def test_the_supported_pythons_agree_in_pyproject_makefile_and_ci():
    low, high = supported_minors()
    assert (low, high) == (11, 13)
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert f"(3, {low}) <= sys.version_info[:2] <= (3, {high})" in makefile
    tried = re.search(r"\$\(foreach p,([^,]+),", makefile)[1].split()
    assert tried[:3] == [f"python3.{m}" for m in range(high, low - 1, -1)]     # the newest first
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert re.findall(r"^run_on (3\.\d+)$", ci, re.M) == [f"3.{low}", f"3.{high}"]
