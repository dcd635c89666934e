"""Settings from the environment or a `.env` file, validated once at start-up."""
from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DB = f"sqlite:///{PROJECT_DIR / 'data' / 'bot.db'}"
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Telegram: user ids "have at most 52 significant bits" (Bot API, User.id); they are positive.
MAX_TELEGRAM_ID = 2 ** 52 - 1
# Half-width digits only: int() would also take "1_000", "１２３" and other scripts' digits.
_INT_RE = re.compile(r"^[0-9]{1,18}$")
_DECIMAL_RE = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,9})?$")
_ID_SEPARATORS = re.compile(r"[,;，；、\s]+")
_HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_PATH_RE = re.compile(r"^[A-Za-z0-9_\-/]{0,200}$")
SECRET_NAMES = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "DATABASE_URL")     # never echoed back
INT_FIELDS = ("webhook_port", "telegram_concurrent_updates", "flood_limit_per_minute", "query_log_retention_days",
              "refusal_audit_retention_days")
DECIMAL_FIELDS = ("telegram_rate_limit_per_second", "kb_refresh_seconds", "admin_conversation_timeout")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=PROJECT_DIR / ".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(DEFAULT_DB, alias="DATABASE_URL")
    telegram_bot_token: str | None = Field(None, alias="TELEGRAM_BOT_TOKEN", repr=False)
    telegram_api_base_url: str = Field("https://api.telegram.org", alias="TELEGRAM_API_BASE_URL")
    webhook_url: str | None = Field(None, alias="WEBHOOK_URL")
    webhook_secret: str | None = Field(None, alias="WEBHOOK_SECRET", repr=False)
    webhook_listen: str = Field("0.0.0.0", alias="WEBHOOK_LISTEN")
    webhook_port: int = Field(8443, alias="WEBHOOK_PORT", ge=1, le=65535)
    webhook_path: str | None = Field(None, alias="WEBHOOK_PATH")
    # Telegram's bulk limit is about 30 messages/s; 0 switches the overall throttle off (self-hosted tests).
    telegram_rate_limit_per_second: float = Field(30.0, alias="TELEGRAM_RATE_LIMIT_PER_SECOND", ge=0, le=1000,
                                                  allow_inf_nan=False)
    # Updates handled at once. Each reply waits one round trip to the Bot API, so a distant server needs a few
    # in flight (4 at 100 ms covers the 30/s limit); more costs CPU in httpx's connection pool.
    telegram_concurrent_updates: int = Field(4, alias="TELEGRAM_CONCURRENT_UPDATES", ge=1, le=256)
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list, alias="ADMIN_IDS")
    flood_limit_per_minute: int = Field(20, alias="FLOOD_LIMIT_PER_MINUTE", ge=1, le=10_000)
    kb_refresh_seconds: float = Field(3.0, alias="KB_REFRESH_SECONDS", ge=0, le=3600, allow_inf_nan=False)
    # An admin's guided edit is dropped (nothing saved) after this long without a reply (at most a day).
    admin_conversation_timeout: float = Field(600.0, alias="ADMIN_CONVERSATION_TIMEOUT", gt=0, le=86_400,
                                              allow_inf_nan=False)
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # The semantic retriever's model: "e5" (multilingual-e5-small, 4-bit, bundled) or "off" (lexical only).
    embedding_model: str = Field("e5", alias="EMBEDDING_MODEL")
    # Logged questions (and their 👍/👎) and refused admin attempts are deleted after this many days
    # (0 keeps them forever); admin changes are the undo history and are always kept.
    query_log_retention_days: int = Field(180, alias="QUERY_LOG_RETENTION_DAYS", ge=0, le=3650)
    refusal_audit_retention_days: int = Field(180, alias="REFUSAL_AUDIT_RETENTION_DAYS", ge=0, le=3650)

    @field_validator(*INT_FIELDS, mode="before")
    @classmethod
    def _plain_int(cls, value):
        if isinstance(value, str):
            value = value.strip()
            if not _INT_RE.match(value):
                raise ValueError("应为整数，只用半角数字 0-9（不要小数点、下划线、全角数字）")
            return int(value)
        return value

    @field_validator(*DECIMAL_FIELDS, mode="before")
    @classmethod
    def _plain_decimal(cls, value):
        if isinstance(value, str):
            value = value.strip()
            if not _DECIMAL_RE.match(value):
                raise ValueError("应为数字，例如 30 或 0.5（只用半角数字和小数点；不能是 inf、nan、负数或科学计数法）")
            return float(value)
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value):
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if isinstance(value, str):
            parts = [p for p in _ID_SEPARATORS.split(value.strip()) if p]
            bad = [p for p in parts if not re.fullmatch(r"[0-9]{1,30}", p)]
            if bad:
                raise ValueError(f"“{bad[0][:30]}”不是 Telegram 数字 ID：应为逗号分隔的半角数字，例如 12345,67890")
            value = [int(p) for p in parts]
        if isinstance(value, list):
            for uid in value:
                if isinstance(uid, bool) or not isinstance(uid, int) or not 0 < uid <= MAX_TELEGRAM_ID:
                    raise ValueError(f"{uid} 不是有效的 Telegram 用户 ID（应为 1 到 {MAX_TELEGRAM_ID} 之间的整数）")
            return list(dict.fromkeys(value))
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        value = value.strip()
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not _HOST_RE.match(value):
                raise ValueError("WEBHOOK_LISTEN 应为要监听的 IP 地址，例如 0.0.0.0 或 127.0.0.1") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _check_db(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("DATABASE_URL 应以 sqlite:/// 或 postgresql+psycopg:// 开头")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://"):]
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _check_token(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _TOKEN_RE.match(value):
            raise ValueError("TELEGRAM_BOT_TOKEN 格式不对，应形如 123456789:AAE...（在 @BotFather 获取）")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        """The server's address, e.g. http://127.0.0.1:8081. python-telegram-bot's own base_url form
        (http://127.0.0.1:8081/bot, as its docs and the telegram-bot-api README show) is accepted too
        and normalised here, once: the bot adds /bot and /file/bot itself."""
        value = value.strip().rstrip("/")
        if value.endswith("/bot"):
            value = value[: -len("/bot")].rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("TELEGRAM_API_BASE_URL 应为 http(s):// 开头的地址，例如 https://api.telegram.org "
                             "或 http://127.0.0.1:8081")
        return value

    @field_validator("webhook_url", "webhook_secret", "webhook_path", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("webhook_path")
    @classmethod
    def _check_path(cls, value: str | None) -> str | None:
        if value is not None and (not _PATH_RE.match(value) or ".." in value):
            raise ValueError("WEBHOOK_PATH 只能包含字母、数字、_、- 和 /，例如 telegram/hook")
        return value

    @model_validator(mode="after")
    def _check_webhook(self) -> Settings:
        if self.webhook_url is None:
            return self
        parts = urlsplit(self.webhook_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("WEBHOOK_URL 应为 https:// 开头的公网地址，例如 https://bot.example.org/telegram")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("WEBHOOK_URL 必须使用 https（Telegram 只向 https 地址推送）")
        if not self.webhook_secret:
            raise ValueError("设置了 WEBHOOK_URL 就必须设置 WEBHOOK_SECRET（1–256 个字母、数字、_ 或 -），"
                             "用来拒绝不是 Telegram 发来的请求")
        if not _SECRET_RE.match(self.webhook_secret):
            raise ValueError("WEBHOOK_SECRET 只能包含字母、数字、_ 和 -，长度 1–256")
        return self

    @property
    def webhook_url_path(self) -> str:
        """The path the webhook server listens on: WEBHOOK_PATH, else the path of WEBHOOK_URL."""
        path = self.webhook_path if self.webhook_path is not None else urlsplit(self.webhook_url or "").path
        return (path or "").strip("/")

    @field_validator("embedding_model")
    @classmethod
    def _check_embedding_model(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"e5", "off"}:
            raise ValueError("EMBEDDING_MODEL 应为 e5（默认，语义检索）或 off（只用关键词匹配）")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("LOG_LEVEL 应为 DEBUG、INFO、WARNING 或 ERROR")
        return value


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)


_MESSAGES = {
    "greater_than": "应大于 {gt}", "greater_than_equal": "应不小于 {ge}", "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}", "finite_number": "应为有限的数字（不能是 inf 或 nan）",
    "int_parsing": "应为整数", "int_type": "应为整数", "float_parsing": "应为数字", "float_type": "应为数字",
    "int_from_float": "应为整数", "string_type": "应为文本", "missing": "缺少这个设置",
}


def describe_settings_error(exc: ValidationError) -> list[str]:
    """One Chinese line per problem, each naming the environment variable."""
    lines = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]) or "配置"
        if err["type"] == "value_error":
            message = str(err.get("ctx", {}).get("error", err["msg"]))
        else:
            message = _MESSAGES.get(err["type"], err["msg"]).format(**err.get("ctx", {}))
        if name != "配置" and not message.startswith(name):
            message = f"{name} {message}"
        shown = err.get("input")
        if name in SECRET_NAMES or isinstance(shown, dict) or shown is None:
            lines.append(f"配置错误：{message}")
        else:
            lines.append(f"配置错误：{message}（现在是 {str(shown)[:60]!r}）")
    return lines
