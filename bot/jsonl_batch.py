"""`run_bot.py ask --jsonl`: one JSON answer line for every question line, whatever a line holds.

A line is {"q", "district"?, "session"?}: lines with the same "session" are the turns of one
conversation, in input order (follow-ups such as "那富阳呢" are read against it); without it
a line stands alone.

Why bytes: the batch is read from a pipe that may carry a line of invalid UTF-8 or a
JSON-escaped lone surrogate; decoding the whole stream as text made one such line
abort every line after it. Each line is decoded and checked on its own, and a bad
line gets an error object naming its line number; the batch goes on.
"""
from __future__ import annotations

import io
import json
import logging
import re
from typing import BinaryIO

from knowledge.engine import AnswerEngine

from .conversations import Session

log = logging.getLogger(__name__)
_SURROGATE = re.compile("[\ud800-\udfff]")


def error_line(lineno: int, message: str) -> dict:
    """The shape of an answer (so graders read every line the same way), plus `line` and `error`."""
    text = f"第 {lineno} 行{message}"
    return {"matched": False, "answer": text, "faq_id": None, "score": 0.0, "district": None, "sources": [],
            "suggestions": [], "kind": "error", "line": lineno, "error": text}


def _request(raw: bytes, lineno: int) -> tuple[str, str | None, str | None] | dict | None:
    """(question, district, session), an error object, or None for a blank line."""
    try:
        line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        return error_line(lineno, f"不是有效的 UTF-8 文本（第 {exc.start + 1} 个字节）")
    if not line.strip():
        return None
    try:
        req = json.loads(line)
    except json.JSONDecodeError as exc:
        return error_line(lineno, f"不是有效的 JSON：{exc.msg}（第 {exc.colno} 列）")
    if not isinstance(req, dict):
        return error_line(lineno, '应为 JSON 对象，例如 {"q": "医疗互助怎么报销", "district": null}')
    question, district = req.get("q"), req.get("district")
    if isinstance(question, (int, float)) and not isinstance(question, bool):
        question = str(question)
    if question is not None and not isinstance(question, str):
        return error_line(lineno, "的 q 应为文本")
    if district is not None and not isinstance(district, str):
        return error_line(lineno, "的 district 应为文本或 null")
    session = req.get("session")
    if session is not None and not isinstance(session, (str, int)):
        return error_line(lineno, "的 session 应为文本或数字")
    session = None if session is None else str(session)
    for value in (question, district, session):
        bad = _SURROGATE.search(value or "")
        if bad:
            return error_line(lineno, f"含有无效的字符（单独的代理项 U+{ord(bad.group()):04X}）")
    return question or "", district, session


class _TextSink:
    """Bytes written to a text stream (a test's StringIO has no .buffer)."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data.decode("utf-8"))

    def flush(self) -> None:
        self.stream.flush()


def binary_streams(stdin, stdout) -> tuple[BinaryIO, BinaryIO]:
    """The byte streams under sys.stdin/sys.stdout, or byte views of plain text streams."""
    binary_in = getattr(stdin, "buffer", None) or io.BytesIO(stdin.read().encode("utf-8", "surrogatepass"))
    binary_out = getattr(stdout, "buffer", None) or _TextSink(stdout)
    return binary_in, binary_out


def answer_lines(engine: AnswerEngine, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Answers every non-blank line of stdin, in order; returns how many lines were errors."""
    errors = 0
    sessions: dict[str, Session] = {}
    for lineno, raw in enumerate(stdin, 1):
        req = _request(raw, lineno)
        if req is None:
            continue
        if isinstance(req, tuple):
            question, district, sid = req
            session = sessions.setdefault(sid, Session()) if sid is not None else None
            try:
                answer = engine.answer(question, district, session.history() if session else ())
                if session is not None:
                    session.add(question, answer)
                result = answer.to_json()
            except Exception as exc:  # noqa: BLE001 - one line's failure must not end the batch
                log.exception("line %d could not be answered", lineno)
                result = error_line(lineno, f"无法回答（{type(exc).__name__}）")
        else:
            result = req
        errors += result.get("kind") == "error"
        stdout.write((json.dumps(result, ensure_ascii=False) + "\n").encode("utf-8"))
        stdout.flush()
    return errors
