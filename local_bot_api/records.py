"""What the fake server keeps and answers with: errors, recorded calls, files, per-bot state.

Why one module: the HTTP layer, the Bot API methods and the test helpers all share
these types; keeping them here keeps the other modules free of import cycles.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypedDict

from ._parsing import UploadedFile

#: Token used when none is given.  The part before ':' becomes the bot's user id.
DEFAULT_TOKEN = "123456:LOCAL-TEST-TOKEN"


class Unset:
    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = Unset()


class BotApiUrls:
    """What python-telegram-bot is pointed at, for a server whose root is ``url``."""

    url: str

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url``: PTB appends the token to it."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url``: PTB appends the token to it."""
        return f"{self.url}/file/bot"


class ApiError(Exception):
    """A Bot API error answer: HTTP status + Telegram-style ``description``."""

    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict:
        out = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


class Aborted(Exception):
    """The client went away (e.g. PTB cancelled a long poll): send and record nothing."""


@dataclass(eq=False)
class Call:
    """One recorded request: what the bot sent and what the server answered."""

    index: int
    method: str
    params: dict
    time: float
    token: str
    status: int = 200
    response: dict | None = None
    files: dict[str, UploadedFile] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")

    @property
    def description(self) -> str | None:
        return (self.response or {}).get("description")

    def to_json(self) -> dict:
        """JSON-safe form (file bytes base64-encoded) used by the control endpoint."""
        return {
            "index": self.index,
            "method": self.method,
            "params": self.params,
            "time": self.time,
            "token": self.token,
            "status": self.status,
            "response": self.response,
            "files": {
                k: {
                    "name": f.name,
                    "filename": f.filename,
                    "content_type": f.content_type,
                    "data_b64": base64.b64encode(f.data).decode(),
                }
                for k, f in self.files.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict) -> Call:
        files = {
            k: UploadedFile(v["name"], v["filename"], v["content_type"], base64.b64decode(v["data_b64"]))
            for k, v in (data.get("files") or {}).items()
        }
        return cls(
            index=data["index"],
            method=data["method"],
            params=data["params"],
            time=data["time"],
            token=data["token"],
            status=data["status"],
            response=data["response"],
            files=files,
        )

    def __repr__(self) -> str:
        return f"<Call #{self.index} {self.method} {self.status} params={_short(self.params)}>"


@dataclass(eq=False)
class StoredFile:
    """A file known to the server (pushed by a test or uploaded by the bot)."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str
    file_name: str | None = None

    def meta(self) -> dict:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.data)}


ERROR_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    409: "Conflict: injected failure",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def fault_error(status: int, retry_after: float | None = None, description: str | None = None,
                parameters: dict | None = None) -> ApiError:
    """The error answer of an injected fault, worded like Telegram's."""
    if description is None:
        description = (f"Too Many Requests: retry after {retry_after}" if status == 429
                       else ERROR_DESCRIPTIONS.get(status, f"Error {status}"))
    if parameters is None and status == 429:
        parameters = {"retry_after": retry_after}
    return ApiError(status, description, parameters)


@dataclass
class Injection:
    """A queued fault for the next calls of a method: an error answer, a dropped connection (the
    call is not carried out) or a held-back answer (the call is carried out, the answer waits)."""

    method: str
    token: str | None
    remaining: int
    error: ApiError | None = None
    drop: bool = False
    delay: float = 0.0


@dataclass
class FaultPlan:
    """Random faults on a share of a method's calls (inject_faults): each kind equally likely.

    Kinds: an HTTP status as a string ("429", "500", "502" ...) answered instead of carrying the call
    out; "drop": the connection closes without an answer, the call not carried out; "slow": the call
    is carried out and its answer held back a random time within ``slow``.
    """

    method: str
    token: str | None
    rate: float
    kinds: tuple[str, ...]
    slow: tuple[float, float]
    rng: Any
    counts: dict[str, int] = field(default_factory=dict)


class BotState:
    """Everything the server knows per bot token."""

    def __init__(self, token: str, user: dict):
        self.token = token
        self.user = user
        self.updates: list[dict] = []
        self.next_update_id = 1
        self.poll_seq = 0
        self.allowed_updates: list[str] | None = None
        self.webhook: dict | None = None
        self.webhook_thread: threading.Thread | None = None
        self.webhook_retry_at = 0.0
        self.webhook_deliveries: list[dict] = []
        self.commands: dict[tuple[str, str], list] = {}
        self.menu_buttons: dict[Any, dict] = {}
        self.chats: dict[int, dict] = {}
        self.messages: dict[tuple[int, int], dict] = {}
        self.msg_counter: dict[int, int] = {}
        self.callback_ids: set[str] = set()
        self.inline_ids: set[str] = set()
        self.blocked: set[int] = set()
        self.members: dict[tuple[int, int], dict] = {}
        self.waiting_polls = 0  # getUpdates requests currently held open


class Request:
    __slots__ = ("alive", "bot", "files", "method", "params")

    def __init__(self, bot, method, params, files, alive):
        self.bot: BotState = bot
        self.method: str = method
        self.params: dict = params
        self.files: dict[str, UploadedFile] = files
        self.alive: Callable[[], bool] = alive


class CallFilter(TypedDict, total=False):
    """What the wait_for* family accepts besides method and predicate (all optional).

    ``match`` compares decoded params for equality, ``ok`` filters by success,
    ``since`` (from mark()) ignores older calls, ``token`` picks one bot.
    """

    match: dict | None
    ok: bool | None
    since: int
    token: str | None


class Matcher:
    """Incremental call matcher so waiting for N calls stays O(N)."""

    def __init__(self, method: str | None, predicate: Callable[[Call], bool] | None = None, *,
                 match: dict | None = None, ok: bool | None = None, since: int = 0, token: str | None = None):
        self.method = method
        self.predicate = predicate
        self.match = match or {}
        self.ok = ok
        self.next_index = since
        self.token = token
        self.found: list[Call] = []

    def accepts(self, c: Call) -> bool:
        if self.method is not None and c.method != self.method:
            return False
        if self.token is not None and c.token != self.token:
            return False
        if self.ok is not None and c.ok != self.ok:
            return False
        for k, v in self.match.items():
            if c.params.get(k, UNSET) != v:
                return False
        return self.predicate is None or bool(self.predicate(c))

    def describe(self) -> str:
        parts = [self.method or "<any method>"]
        if self.match:
            parts.append(f"match={self.match!r}")
        if self.ok is not None:
            parts.append(f"ok={self.ok}")
        if self.predicate is not None:
            parts.append(f"predicate={getattr(self.predicate, '__name__', self.predicate)!s}")
        if self.next_index:
            parts.append(f"since=#{self.next_index}")
        return " ".join(parts)


def wait_timeout_error(what: str, count: int, timeout: float, found: int, recent: list[Call],
                       hint: str = "") -> AssertionError:
    """The error of every wait_for*: what was awaited, and the last calls to see what came instead."""
    lines = "\n".join(f"  {c!r}" for c in recent) or "  (no calls recorded)"
    return AssertionError(
        f"Timed out after {timeout}s waiting for {count} call(s) of {what}; "
        f"got {found}. Last {len(recent)} calls:\n{lines}{hint}"
    )


def polling_timeout_error(timeout: float) -> AssertionError:
    return AssertionError(f"No getUpdates long poll was held open within {timeout}s (is the bot polling?)")


def _short(obj: Any, limit: int = 160) -> str:
    text = repr(obj)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def bot_id_from_token(token: str) -> int:
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else 100000000 + zlib.crc32(token.encode()) % 900000000


def update_type(update: dict) -> str | None:
    return next((k for k in update if k != "update_id"), None)


def strip_reply(msg: dict) -> dict:
    out = copy.deepcopy(msg)
    out.pop("reply_to_message", None)
    return out


def require_param(params: dict, name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError(400, f'Bad Request: parameter "{name}" is required')
    return value


def as_int(value: Any, default: int = 0) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid integer value {value!r}") from None


def json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def chat_member(user: dict, status: str, fields: dict) -> dict:
    """A ChatMember object with all fields PTB 22 requires for that status."""
    base: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        base["is_anonymous"] = False
    elif status == "administrator":
        base.update({k: True for k in (
            "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
            "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
            "can_edit_stories", "can_delete_stories", "can_pin_messages")})
        base.update({"can_be_edited": False, "is_anonymous": False})
    elif status == "restricted":
        base.update({k: False for k in (
            "can_change_info", "can_invite_users", "can_pin_messages", "can_send_messages", "can_send_polls",
            "can_send_other_messages", "can_add_web_page_previews", "can_manage_topics", "can_send_audios",
            "can_send_documents", "can_send_photos", "can_send_videos", "can_send_video_notes",
            "can_send_voice_notes", "can_edit_tag", "can_react_to_messages")})
        base.update({"is_member": True, "until_date": 0})
    elif status == "kicked":
        base["until_date"] = 0
    elif status not in ("member", "left"):
        raise ValueError(f"unknown chat member status {status!r}")
    base.update(fields)
    return base
