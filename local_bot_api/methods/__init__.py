"""Every Bot API method the fake server knows, and the table that finds one by name.

A method is ``_api_<methodName>(self, r: Request)`` on one of the classes below
(grouped by what it does); it runs under the state lock and returns the "result",
or raises ApiError.  To add a method, add it to the class where it fits: the
dispatch table picks up every ``_api_*`` name (case-insensitive, like Telegram).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..records import Request
from .chats import TRUE_METHODS, ChatMethods
from .editing import EditingMethods
from .sending import MEDIA_METHODS, SendingMethods
from .updates import UpdateMethods

__all__ = ["DISPATCH", "BotApiMethods"]


class BotApiMethods(UpdateMethods, SendingMethods, EditingMethods, ChatMethods):
    """All Bot API methods (LocalBotApi inherits them)."""


Method = Callable[[Any, Request], Any]


def _ok_true(api: Any, r: Request) -> bool:
    return True


def _media_sender(kind: str) -> Method:
    def send(api: Any, r: Request) -> dict:
        return api._send_media(r, kind)
    return send


def _dispatch() -> dict[str, tuple[str, Method]]:
    table: dict[str, tuple[str, Method]] = {
        name[len("_api_"):].lower(): (name[len("_api_"):], getattr(BotApiMethods, name))
        for name in dir(BotApiMethods)
        if name.startswith("_api_")
    }
    table.update({name.lower(): (name, _media_sender(kind)) for name, kind in MEDIA_METHODS.items()})
    table.update({name.lower(): (name, _ok_true) for name in TRUE_METHODS})
    return table


#: lower-cased method name -> (its proper spelling, the function that runs it).
DISPATCH = _dispatch()
