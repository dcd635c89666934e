#!/usr/bin/env python3
"""Rebuilds the project's cleaned copies of the seed articles.

The seeds are OCR/news text with lines broken inside sentences (000 is set in
narrow newspaper columns) and numbers split by stray spaces ("13 . 5 6万").
The validator ignores whitespace, so cleaning only has to make the text
readable and splittable into sentences; it never changes a character.

    python scripts/clean_sources.py ../shared/seeds knowledge/data/sources
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

END = ("。", "！", "？", "；", "：", "。”", "！”", "？”", "!", "?", ";", ":")


def _is_heading(line: str, column_width: int) -> bool:
    text = line.strip()
    if not text or text.startswith("#"):
        return True
    if text.endswith(END):
        return False
    # Column text fills the column; a heading is shorter or spaced out.
    return "  " in text or " " in text.strip() or len(text) < column_width


def clean(raw: str, column_width: int) -> str:
    lines = [ln.rstrip() for ln in raw.splitlines()]
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if current and not current.endswith(END) and not _is_heading(current, column_width) \
                and not text.startswith("#"):
            current += text
        else:
            if current:
                paragraphs.append(current)
            current = text
    if current:
        paragraphs.append(current)
    out = "\n\n".join(paragraphs) + "\n"
    # "13 . 5 6万" -> "13.56万": spaces inside a number are OCR noise.
    out = re.sub(r"(?<=\d) ?\. ?(?=\d)", ".", out)
    out = re.sub(r"(?<=\d) (?=\d)", "", out)
    return out


def main(src: str, dst: str) -> None:
    for path in sorted(Path(src).glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        width = 12 if path.name.startswith("000_") else 40
        (Path(dst) / path.name).write_text(clean(raw, width), encoding="utf-8")
        print(f"cleaned {path.name}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
