"""Decoding of Bot API request parameters.

Why: PTB 22 sends every parameter as a form field (multipart when a file is
uploaded) where strings are sent raw and everything else is ``json.dumps``-ed
(``chat_id=42``, ``disable_notification=true``, ``reply_markup={...}``).  Tests
want to assert on real Python values, so non-string fields are JSON-decoded
back, while fields that are documented as strings (``text``, ``data``, ids ...)
are kept verbatim even when they look like numbers or JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

__all__ = ["STRING_FIELDS", "UploadedFile", "decode_params", "decode_value", "parse_body"]

#: Parameters the Bot API documents as String: never JSON-decoded.
STRING_FIELDS = frozenset(
    {
        "action", "address", "animation", "audio", "business_connection_id", "callback_query_id",
        "caption", "certificate", "cover", "currency", "custom_title", "data", "description",
        "document", "emoji", "emoji_status_custom_emoji_id", "explanation", "file_id",
        "first_name", "foursquare_id", "foursquare_type", "game_short_name", "google_place_id",
        "google_place_type", "inline_message_id", "inline_query_id", "invite_link", "ip_address",
        "language_code", "last_name", "message_effect_id", "name", "next_offset", "parse_mode",
        "payload", "phone_number", "photo", "pre_checkout_query_id", "provider_token", "query",
        "question", "secret_token", "shipping_query_id", "short_description", "start_parameter",
        "sticker", "switch_pm_parameter", "switch_pm_text", "text", "thumbnail", "title", "url",
        "vcard", "video", "video_note", "voice", "web_app_query_id", "set_name", "error_message",
        "button_text", "quote", "performer",
    }
)

_JSONISH = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$|true$|false$|null$")


@dataclass(frozen=True)
class UploadedFile:
    """One multipart file part as received (e.g. the ``document`` of sendDocument)."""

    name: str
    filename: str | None
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def decode_value(key: str, value):
    """JSON-decode ``value`` unless ``key`` is a documented string parameter."""
    if not isinstance(value, str) or not value or key in STRING_FIELDS:
        return value
    if value[0] in "{[" or _JSONISH.match(value):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def decode_params(raw: dict) -> dict:
    return {k: decode_value(k, v) for k, v in raw.items()}


def _header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``form-data; name="x"; filename="y"`` into ("form-data", {...})."""
    head, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for m in re.finditer(r';?\s*([\w*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', ";" + rest):
        key, val = m.group(1).lower(), m.group(2).strip()
        if val.startswith('"') and val.endswith('"') and len(val) >= 2:
            val = val[1:-1].replace('\\\\', '\\').replace('\\"', '"')
            # httpx/browsers percent-escape '"' and control characters (HTML5 rules)
            val = re.sub(r"%(22|0[0-9A-Fa-f]|1[0-9A-Fa-f])", lambda x: chr(int(x.group(1), 16)), val)
        if key.endswith("*"):  # RFC 5987: utf-8''percent-encoded
            key = key[:-1]
            _, _, enc = val.partition("''")
            val = unquote(enc)
        params[key] = val
    return head.strip().lower(), params


def _parse_multipart(body: bytes, boundary: str) -> tuple[dict, dict[str, UploadedFile]]:
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for part in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break
        if part.startswith(b"\r\n"):
            part = part[2:]
        if part.endswith(b"\r\n"):
            part = part[:-2]
        head, _, data = part.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        _, disp = _header_params(headers.get("content-disposition", ""))
        name = disp.get("name")
        if name is None:
            continue
        if "filename" in disp:
            files[name] = UploadedFile(
                name=name,
                filename=disp.get("filename"),
                content_type=headers.get("content-type", "application/octet-stream"),
                data=data,
            )
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


def parse_body(content_type: str | None, body: bytes) -> tuple[dict, dict[str, UploadedFile]]:
    """Decode a request body (form, multipart or JSON) into (params, uploaded files)."""
    if not body:
        return {}, {}
    ctype, cparams = _header_params(content_type or "")
    if ctype == "multipart/form-data":
        fields, files = _parse_multipart(body, cparams.get("boundary", ""))
        return decode_params(fields), files
    if ctype == "application/json" or (not ctype and body[:1] in b"{["):
        data = json.loads(body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        return decode_params(data), {}
    # application/x-www-form-urlencoded (also the default for unknown types)
    return decode_params(dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))), {}


def parse_query(query: str) -> dict:
    return decode_params(dict(parse_qsl(query, keep_blank_values=True))) if query else {}
