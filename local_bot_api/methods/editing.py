"""Bot API methods that change what was sent, and answers to button presses and inline queries."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable

from ..records import (
    ApiError,
    Request,
    as_int,
)


class EditingMethods:
    """Each ``_api_<methodName>`` runs under the state lock and returns the "result"."""

    def _editable(self, r: Request) -> dict | None:
        """The stored message addressed by chat_id+message_id, or None for inline messages."""
        p = r.params
        if p.get("inline_message_id"):
            return None
        chat = self._resolve_chat(r.bot, p.get("chat_id"))
        msg = r.bot.messages.get((chat["id"], as_int(p.get("message_id"))))
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if msg.get("from", {}).get("id") != r.bot.user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        return msg

    @staticmethod
    def _apply_edit(msg: dict, changes: dict, drop: Iterable[str]) -> dict:
        before = {k: msg.get(k) for k in list(changes) + list(drop)}
        after = {k: changes.get(k) for k in before}
        if before == after:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                "reply markup are exactly the same as a current content and reply markup "
                                "of the message")
        for key in drop:
            msg.pop(key, None)
        msg.update({k: v for k, v in changes.items() if v is not None})
        msg["edit_date"] = int(time.time())
        return copy.deepcopy(msg)

    def _api_editMessageText(self, r: Request) -> dict | bool:
        changes = self._formatted(r.params, "text", "entities", 4096, True)
        markup = self._check_markup(r.params.get("reply_markup"))
        msg = self._editable(r)
        if msg is None:
            return True
        if "text" not in msg:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        changes.setdefault("entities", None)
        changes["reply_markup"] = markup  # omitting reply_markup removes the inline keyboard
        return self._apply_edit(msg, changes, [k for k, v in changes.items() if v is None])

    def _api_editMessageCaption(self, r: Request) -> dict | bool:
        changes = self._formatted(r.params, "caption", "caption_entities", 1024, False)
        markup = self._check_markup(r.params.get("reply_markup"))
        msg = self._editable(r)
        if msg is None:
            return True
        changes.setdefault("caption", None)
        changes.setdefault("caption_entities", None)
        changes["reply_markup"] = markup
        return self._apply_edit(msg, changes, [k for k, v in changes.items() if v is None])

    def _api_editMessageReplyMarkup(self, r: Request) -> dict | bool:
        markup = self._check_markup(r.params.get("reply_markup"))
        msg = self._editable(r)
        if msg is None:
            return True
        return self._apply_edit(msg, {"reply_markup": markup}, ["reply_markup"] if markup is None else [])

    def _api_deleteMessage(self, r: Request) -> bool:
        chat = self._resolve_chat(r.bot, r.params.get("chat_id"))
        if r.bot.messages.pop((chat["id"], as_int(r.params.get("message_id"))), None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _api_deleteMessages(self, r: Request) -> bool:
        chat = self._resolve_chat(r.bot, r.params.get("chat_id"))
        for mid in r.params.get("message_ids") or []:
            r.bot.messages.pop((chat["id"], as_int(mid)), None)
        return True

    # -- queries
    def _api_answerCallbackQuery(self, r: Request) -> bool:
        if str(r.params.get("callback_query_id")) not in r.bot.callback_ids:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(str(r.params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _api_answerInlineQuery(self, r: Request) -> bool:
        if str(r.params.get("inline_query_id")) not in r.bot.inline_ids:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        results = r.params.get("results")
        if not isinstance(results, list):
            raise ApiError(400, 'Bad Request: parameter "results" is required')
        if len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [res.get("id") for res in results if isinstance(res, dict)]
        if len(ids) != len(results) or not all(ids) or not all(res.get("type") for res in results):
            raise ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
        if len(set(ids)) != len(ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        for res in results:
            self._check_markup(res.get("reply_markup"))
        return True
