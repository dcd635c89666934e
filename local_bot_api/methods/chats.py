"""Bot API methods about chats, members and files, and the ones that just answer True."""

from __future__ import annotations

from ..records import (
    ApiError,
    Request,
    as_int,
    chat_member,
    require_param,
)

MAX_DOWNLOAD = 20 * 1024 * 1024

# Methods a bot commonly calls whose result is just True; recorded like any other call.
TRUE_METHODS = (
    "setMyDescription", "setMyShortDescription", "setMyName", "setMessageReaction", "pinChatMessage",
    "unpinChatMessage", "unpinAllChatMessages", "leaveChat", "banChatMember", "unbanChatMember",
    "restrictChatMember", "promoteChatMember", "setChatTitle", "setChatDescription",
    "approveChatJoinRequest", "declineChatJoinRequest", "setMyDefaultAdministratorRights",
    "setChatPermissions", "setChatAdministratorCustomTitle",
)


class ChatMethods:
    """Each ``_api_<methodName>`` runs under the state lock and returns the "result"."""

    def _api_getChat(self, r: Request) -> dict:
        cid = r.params.get("chat_id")
        if isinstance(cid, int) and cid not in r.bot.chats and cid not in self._users:
            raise ApiError(400, "Bad Request: chat not found")
        chat = dict(self._resolve_chat(r.bot, cid))
        chat.update({
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                                    "premium_subscription": False, "gifts_from_channels": False},
        })
        return chat

    def _api_getChatMember(self, r: Request) -> dict:
        chat = self._resolve_chat(r.bot, r.params.get("chat_id"))
        user_id = as_int(require_param(r.params, "user_id"))
        member = r.bot.members.get((chat["id"], user_id))
        if member is not None:
            return member
        if user_id == r.bot.user["id"]:
            user = dict(r.bot.user)
        else:
            user = dict(self._users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"})
        return chat_member(user, "member", {})

    def _api_getChatAdministrators(self, r: Request) -> list:
        chat = self._resolve_chat(r.bot, r.params.get("chat_id"))
        return [m for (cid, _), m in r.bot.members.items()
                if cid == chat["id"] and m["status"] in ("creator", "administrator")]

    def _api_getChatMemberCount(self, r: Request) -> int:
        chat = self._resolve_chat(r.bot, r.params.get("chat_id"))
        return 2 if chat["type"] == "private" else max(2, sum(1 for cid, _ in r.bot.members if cid == chat["id"]))

    def _api_getFile(self, r: Request) -> dict:
        rec = self._files.get(str(r.params.get("file_id")))
        if rec is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(rec.data) > MAX_DOWNLOAD:
            raise ApiError(400, "Bad Request: file is too big")
        return {**rec.meta(), "file_path": rec.file_path}
