"""How the cleaned source copies are laid out: paragraphs, headings, list items and gap marks.

The copies (knowledge/data/sources/, made by scripts/clean_sources.py) keep every character of
the originals. A heading, caption or byline is a paragraph of its own with no closing
punctuation; a photo caption is marked CAPTION (it states an event, but is not a sentence of
the article); a list item starts with "- "; where the original lost text (a page or column
break) the copy carries GAP at the broken edge and never joins text across it.
"""
from __future__ import annotations

import re

GAP = "[原文缺失]"
CAPTION = "[图片说明]"
_CLOSING_QUOTES = "”’」』）)"
_SENTENCE_END = "。！？；…!?;"


def paragraphs(text: str) -> list[str]:
    """Paragraphs of a copy (blank-line separated), stripped; empty ones dropped."""
    return [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


def is_list_item(paragraph: str) -> bool:
    return paragraph.lstrip().startswith("- ")


def ends_sentence(text: str) -> bool:
    """True when the text ends like a sentence ("…。", "…！”"), not like a heading or a fragment."""
    core = re.sub(r"\s+|\*\*", "", text or "").rstrip(_CLOSING_QUOTES)
    return bool(core) and core[-1] in _SENTENCE_END


def is_caption(paragraph: str) -> bool:
    return paragraph.lstrip().startswith(CAPTION)


def is_heading(paragraph: str) -> bool:
    """A title, heading or byline: marked with '#', or a paragraph that is not a sentence (captions,
    list items and paragraphs cut off by a gap aside)."""
    text = paragraph.strip()
    if text.startswith("#"):
        return True
    if is_list_item(text) or is_caption(text) or text.endswith(GAP):
        return False
    return not ends_sentence(text)
