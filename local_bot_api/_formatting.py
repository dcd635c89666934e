"""Text formatting the way the Bot API does it.

Why this exists: the most common production failures of a bot are formatting errors
("can't parse entities") and wrong entity offsets.  The fake server therefore
parses ``parse_mode=HTML`` like Telegram (strips tags, returns entities, rejects
unsupported/unbalanced tags), rejects unescaped reserved characters in MarkdownV2,
and computes entity offsets in UTF-16 code units, as the real API does.
"""

from __future__ import annotations

import re

__all__ = ["FormatError", "auto_entities", "check_markdown_v2", "parse_html", "utf16_len"]


class FormatError(ValueError):
    """Raised with a Telegram-like description when a text can't be parsed."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram entity offsets/lengths."""
    return len(text.encode("utf-16-le")) // 2


# ---------------------------------------------------------------------------
# automatic entities (what Telegram detects in plain text)
# ---------------------------------------------------------------------------
_AUTO_RE = re.compile(
    r"(?P<bot_command>(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/]))"
    r"|(?P<url>\bhttps?://[^\s<>\"]+)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{3,32}\b)"
    r"|(?P<hashtag>(?<![\w#])#[^\W\d_][\w]*)"
)


def auto_entities(text: str | None) -> list[dict]:
    """Entities Telegram would attach to an unformatted text (commands, mentions, urls, tags).

    Offsets/lengths are UTF-16 based, so ``message.parse_entities()`` in PTB
    returns the right substrings even after emoji.
    """
    if not text:
        return []
    out = []
    for m in _AUTO_RE.finditer(text):
        kind = m.lastgroup
        start = utf16_len(text[: m.start()])
        out.append({"type": kind, "offset": start, "length": utf16_len(m.group(0))})
    return out


# ---------------------------------------------------------------------------
# HTML parse mode
# ---------------------------------------------------------------------------
_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z_:][-\w:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)\s*/?>"
)
_ATTR_RE = re.compile(r"([a-zA-Z_:][-\w:.]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?")
_ENTITY_RE = re.compile(r"&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|(lt|gt|amp|quot));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
}


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8"))


def _attrs(raw: str) -> dict[str, str]:
    out = {}
    for m in _ATTR_RE.finditer(raw or ""):
        value = next((g for g in m.group(2, 3, 4) if g is not None), "")
        out[m.group(1).lower()] = _unescape(value)
    return out


def _unescape(text: str) -> str:
    return _ENTITY_RE.sub(_entity_char, text)


def _entity_char(m: re.Match) -> str:
    if m.group(1):
        return chr(int(m.group(1)))
    if m.group(2):
        return chr(int(m.group(2), 16))
    return _NAMED[m.group(3)]


def _open_tag(name: str, attrs: dict[str, str], stack: list, src: str, pos: int) -> dict | None:
    """Entity for an opening tag, or None for tags that carry no entity of their own."""
    if name in _SIMPLE_TAGS:
        kind = _SIMPLE_TAGS[name]
        if kind == "code" and stack and stack[-1][0] == "pre":
            lang = attrs.get("class", "")
            if lang.startswith("language-") and stack[-1][1] is not None:
                stack[-1][1]["language"] = lang[len("language-") :]
                return None
        return {"type": kind}
    if name == "a":
        href = attrs.get("href", "")
        m = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if m:
            return {"type": "text_mention", "user": {"id": int(m.group(1)), "is_bot": False, "first_name": ""}}
        return {"type": "text_link", "url": href} if href else None
    if name == "span":
        if attrs.get("class") == "tg-spoiler":
            return {"type": "spoiler"}
    elif name == "tg-emoji":
        if "emoji-id" in attrs:
            return {"type": "custom_emoji", "custom_emoji_id": attrs["emoji-id"]}
    elif name == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
    raise FormatError(
        f"Bad Request: can't parse entities: Unsupported start tag \"{name}\" at byte offset "
        f"{_byte_offset(src, pos)}"
    )


def parse_html(src: str) -> tuple[str, list[dict]]:
    """Strip Telegram-HTML markup; return (plain text, entities) or raise FormatError."""
    out: list[str] = []
    entities: list[dict] = []
    stack: list[tuple[str, dict | None, int]] = []
    u16 = 0
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch == "<":
            m = _TAG_RE.match(src, i)
            if not m:
                raise FormatError(
                    "Bad Request: can't parse entities: Unsupported start tag at byte offset "
                    f"{_byte_offset(src, i)}"
                )
            name = m.group(2).lower()
            if m.group(1):  # closing tag
                if not stack:
                    raise FormatError(
                        "Bad Request: can't parse entities: Unexpected end tag at byte offset "
                        f"{_byte_offset(src, i)}"
                    )
                if stack[-1][0] != name:
                    raise FormatError(
                        "Bad Request: can't parse entities: Unmatched end tag at byte offset "
                        f"{_byte_offset(src, i)}, expected \"</{stack[-1][0]}>\", found \"</{name}>\""
                    )
                _, ent, start = stack.pop()
                if ent is not None and u16 > start:
                    ent["offset"] = start
                    ent["length"] = u16 - start
                    entities.append(ent)
            else:
                stack.append((name, _open_tag(name, _attrs(m.group(3)), stack, src, i), u16))
            i = m.end()
            continue
        if ch == "&":
            m = _ENTITY_RE.match(src, i)
            if m:
                piece = _entity_char(m)
                out.append(piece)
                u16 += utf16_len(piece)
                i = m.end()
                continue
        j = i + 1
        while j < n and src[j] not in "<&":
            j += 1
        piece = src[i:j]
        out.append(piece)
        u16 += utf16_len(piece)
        i = j
    if stack:
        raise FormatError(
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
            f"\"{stack[-1][0]}\""
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# ---------------------------------------------------------------------------
# MarkdownV2: only validation of reserved characters (the common bug)
# ---------------------------------------------------------------------------
_ALWAYS_RESERVED = set(".-#+={}")


def check_markdown_v2(text: str) -> None:
    """Raise FormatError for an unescaped reserved character, like Telegram does.

    Only the characters that can never be markup (``. - # + = { }``, ``!`` not
    starting ``![``, ``|`` not in ``||``, ``>`` not at a line start, stray
    parentheses) are checked; code spans are skipped.  The text itself is then
    echoed unchanged (no entity extraction for Markdown modes).
    """
    i, n = 0, len(text)
    in_link_url = False
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = i + len(fence)
            while end < n and not text.startswith(fence, end):
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                raise FormatError(
                    "Bad Request: can't parse entities: Can't find end of "
                    f"{'Pre' if len(fence) == 3 else 'Code'} entity at byte offset "
                    f"{_byte_offset(text, i)}"
                )
            i = end + len(fence)
            continue
        bad = False
        if c in _ALWAYS_RESERVED:
            bad = True
        elif c == "!":
            bad = not text.startswith("![", i)
        elif c == "|":
            if text.startswith("||", i):
                i += 2
                continue
            bad = True
        elif c == ">":
            bad = not (i == 0 or text[i - 1] == "\n" or (i >= 2 and text[i - 2 : i] == "**"))
        elif c == "(":
            if i > 0 and text[i - 1] == "]":
                in_link_url = True
            else:
                bad = True
        elif c == ")":
            if in_link_url:
                in_link_url = False
            else:
                bad = True
        if bad and not in_link_url:
            raise FormatError(
                f"Bad Request: can't parse entities: Character '{c}' is reserved and must be "
                "escaped with the preceding '\\'"
            )
        i += 1
