"""The JSON control API (``/_control/<action>``): LocalBotApi's test helpers from another process.

Why: the bot's e2e test runs the real ``run_bot.py`` against ``python -m local_bot_api``
in a subprocess; client.RemoteBotApi calls the same helpers by name over HTTP.  Both
sides encode their arguments here, so the wire format lives in one place.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from ._parsing import parse_query
from .records import Call, Matcher, StoredFile, json_bytes

#: LocalBotApi methods callable as ``/_control/<name>`` with their keyword arguments as JSON.
CONTROL_ACTIONS = frozenset({
    "push_update", "push_message", "push_group_message", "push_location", "push_sticker",
    "push_photo", "push_voice", "push_document", "push_callback_query", "push_inline_query",
    "push_edited_message", "fail_next", "drop_next", "delay_next", "inject_faults", "fault_counts",
    "clear", "block_user", "unblock_user",
    "set_chat_member", "add_bot", "post_webhook", "pending_updates", "chat_history",
    "webhook_info", "webhook_deliveries", "commands", "bot_user", "add_file", "mark",
})


def encode_args(args: dict) -> dict:
    """JSON-safe kwargs: bytes -> ``<key>_b64``, Call -> its result (a message)."""
    out = {}
    for key, value in args.items():
        if isinstance(value, (bytes, bytearray)):
            out[key + "_b64"] = base64.b64encode(bytes(value)).decode()
        elif isinstance(value, Call):
            out[key] = value.result
        else:
            out[key] = value
    return out


def decode_args(args: dict) -> dict:
    """The kwargs encode_args sent: ``<key>_b64`` back to bytes."""
    out = dict(args)
    for key in [k for k in out if k.endswith("_b64")]:
        out[key[:-4]] = base64.b64decode(out.pop(key))
    return out


class ControlEndpoint:
    """Server side of the control API."""

    def _control(self, http_method: str, action: str, query: str, body: bytes) -> tuple[int, bytes]:
        """JSON control API for tests in another process (see client.RemoteBotApi)."""
        try:
            args: dict = dict(parse_query(query))
            if body:
                args.update(json.loads(body.decode("utf-8")))
            if action == "batch":  # many actions in one request (bulk pushes for benchmarks)
                result: Any = [self._control_action(item["action"], dict(item.get("args") or {}))
                               for item in args["calls"]]
            else:
                result = self._control_action(action, args)
            return 200, json_bytes({"ok": True, "result": result})
        except LookupError as exc:
            return 404, json_bytes({"ok": False, "description": f"unknown control action {exc}"})
        except (TypeError, ValueError) as exc:
            return 400, json_bytes({"ok": False, "description": f"{type(exc).__name__}: {exc}"})

    def _control_action(self, action: str, args: dict) -> Any:
        args = decode_args(args)
        if action == "health":
            return {"url": self.url, "tokens": self.tokens}
        if action == "calls":
            return self._control_calls(args, wait=False)
        if action == "wait_calls":
            return self._control_calls(args, wait=True)
        if action == "wait_until_polling":
            try:
                self.wait_until_polling(float(args.get("timeout", 5.0)), token=args.get("token"))
                return True
            except AssertionError:
                return False
        if action not in CONTROL_ACTIONS:
            raise LookupError(repr(action))
        try:
            result = getattr(self, action)(**args)
        except KeyError as exc:  # e.g. unknown file id: a caller error, not a missing action
            raise ValueError(f"not found: {exc}") from None
        if isinstance(result, StoredFile):
            result = {**result.meta(), "file_path": result.file_path}
        return result

    def _control_calls(self, args: dict, wait: bool) -> list[dict]:
        m = Matcher(args.get("method"), match=args.get("match"), ok=args.get("ok"), since=int(args.get("since", 0)),
                    token=args.get("token"))
        deadline = time.monotonic() + float(args.get("timeout", 0) if wait else 0)
        need = max(1, int(args.get("count", 1)))
        with self._cond:
            while True:
                self._scan(m)
                remaining = deadline - time.monotonic()
                if len(m.found) >= need or remaining <= 0 or self._stopping:
                    return [c.to_json() for c in m.found]
                self._cond.wait(remaining)
