"""What every handler needs from the application, behind one small async facade.

Why: handlers stay thin translators; the engine and the repositories are
reached only through here. Answering runs on the event loop (milliseconds, and
repeated questions come from a cache); database reads run in a worker thread;
the query log is written behind the replies in group commits (bot.query_log),
because a transaction per question made the bot several times slower than
Telegram plumbing alone (bench/bot_throughput.py).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from telegram.ext import ContextTypes

from bot.conversations import ConversationStore
from bot.flood import FloodGate
from bot.query_log import QueryLogWriter
from bot.repositories import LoggedQuery
from bot.setup import App
from knowledge.conversation import Turn
from knowledge.engine import Answer, AnswerEngine
from knowledge.stations import StationIndex

log = logging.getLogger("bot.questions")
KEY = "services"
ANSWER_CACHE_SIZE = 2048
REMEMBERED_REPLIES = 20_000
REMEMBERED_DISTRICTS = 10_000   # users whose district is kept in memory (the rest are read again when they ask)


class AnswerCache:
    """Recent answers by (knowledge version, question, district, conversation so far).

    Why: people ask the same few things ("体检", "医疗互助怎么报销") over and over, and the
    engine is the costliest step of a reply; a new knowledge version never reuses old answers,
    and an answer read against one conversation is never served in another (history_key).
    """

    def __init__(self, size: int = ANSWER_CACHE_SIZE):
        self.size = size
        self._items: OrderedDict[tuple, Answer] = OrderedDict()     # used from the event loop only
        self.hits = self.misses = 0

    def get(self, key: tuple) -> Answer | None:
        answer = self._items.get(key)
        if answer is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return answer

    def put(self, key: tuple, answer: Answer) -> None:
        if self.size <= 0:
            return
        self._items[key] = answer
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


def history_key(history: tuple[Turn, ...]) -> tuple:
    """What the engine sees of the turns, minus their times (the same exchange an hour apart is
    the same context; an expired one never reaches the engine)."""
    return tuple((t.question, t.district, t.faq_id, t.category, t.kind, t.topic) for t in history)


@dataclass
class Answered:
    answer: Answer
    logged: asyncio.Future          # the query-log row id, once written (None if the write failed)
    engine_ms: float
    question: str = ""
    history: tuple[Turn, ...] = ()  # the turns the question was read against


@dataclass
class BotServices:
    app: App
    flood: FloodGate
    writer: QueryLogWriter | None = None
    cache: AnswerCache = field(default_factory=AnswerCache)
    replies: OrderedDict = field(default_factory=OrderedDict)    # (chat, message) -> logged future
    conversations: ConversationStore | None = None
    _districts: OrderedDict = field(default_factory=OrderedDict)      # user -> district, recent users only
    _exempt: dict[int, tuple[bool, float]] = field(default_factory=dict)

    def __post_init__(self):
        if self.writer is None:
            self.writer = QueryLogWriter(self.app.repos.queries)
        if self.conversations is None:
            self.conversations = ConversationStore(self.app.repos.conversations)

    @property
    def repos(self):
        return self.app.repos

    # ------------------------------------------------------------ knowledge
    async def engine(self) -> AnswerEngine:
        """The live engine (an admin's edit is seen at once). The periodic version check and a
        re-index after an edit in another process are database work, done off the event loop."""
        engine = self.app.knowledge.current_if_checked()
        if engine is None:
            engine = await asyncio.to_thread(lambda: self.app.knowledge.engine)
        return engine

    async def stations(self) -> StationIndex:
        return await asyncio.to_thread(lambda: self.app.stations.index)

    async def ask(self, question: str, district: str | None, user_id: int | None,
                  channel: str = "telegram", conversation: str | None = None) -> Answered:
        """Answers on the event loop (a few ms at most; repeated questions come from the cache) and
        queues the question for the query log, which is written behind the reply. ``conversation``:
        the key of the conversation the question belongs to (its recent turns go to the engine)."""
        history = await self.conversations.history(conversation) if conversation else ()
        engine = await self.engine()
        t0 = time.perf_counter()
        key = (engine.version, id(engine), question.strip(), district, history_key(history))
        answer = self.cache.get(key)
        if answer is None:
            answer = engine.answer(question, district, history)
            self.cache.put(key, answer)
        ms = (time.perf_counter() - t0) * 1000
        return Answered(answer, self._log(question, answer, user_id, channel, ms), ms, question, history)

    def remember_turn(self, conversation: str | None, answered: Answered) -> None:
        """After the reply: the exchange becomes the conversation's newest turn."""
        if conversation:
            self.conversations.add(conversation, answered.history, answered.question, answered.answer)

    def forget_conversation(self, conversation: str) -> None:
        """/start: the next question starts a new conversation."""
        self.conversations.clear(conversation)

    async def open_entry(self, faq_id: str, district: str | None, user_id: int | None,
                         conversation: str | None = None) -> Answered | None:
        """A tapped suggestion/related/topic question: answered from the entry, logged like a question
        (and, like one, it becomes the conversation's newest turn once remember_turn is called)."""
        engine = await self.engine()
        t0 = time.perf_counter()
        answer = engine.answer_entry(faq_id, district)
        if answer is None:
            return None
        ms = (time.perf_counter() - t0) * 1000
        question = engine.by_id[faq_id].question
        history = await self.conversations.history(conversation) if conversation else ()
        return Answered(answer, self._log(question, answer, user_id, "telegram_button", ms), ms, question, history)

    def _log(self, question: str, answer: Answer, user_id: int | None, channel: str, ms: float) -> asyncio.Future:
        return self.writer.submit(LoggedQuery(
            question=question, district=answer.district, matched=answer.matched, kind=answer.kind,
            faq_id=answer.faq_id, score=float(answer.score), user_id=user_id, channel=channel,
            latency_ms=round(ms, 2)))

    def remember_reply(self, chat_id: int, message_id: int, answered: Answered) -> None:
        """Which logged question a sent answer belongs to, for its 👍/👎 (recent answers only)."""
        self.replies[(chat_id, message_id)] = answered.logged
        while len(self.replies) > REMEMBERED_REPLIES:
            self.replies.popitem(last=False)

    async def query_id_of(self, chat_id: int, message_id: int) -> int | None:
        """The query-log id behind an answer, if this process still remembers it (None after a restart)."""
        logged = self.replies.get((chat_id, message_id))
        if logged is None:
            return None
        return await asyncio.shield(logged)

    async def close(self) -> None:
        """Writes the queued query-log rows and conversation turns."""
        await self.writer.close()
        await self.conversations.drain()

    # ------------------------------------------------------------ user state
    async def district_of(self, user_id: int | None) -> str | None:
        """The user's stored district; cached because every question needs it."""
        if user_id is None:
            return None
        if user_id in self._districts:
            self._districts.move_to_end(user_id)
            return self._districts[user_id]
        district = await asyncio.to_thread(self.repos.preferences.district_of, user_id)
        self._remember_district(user_id, district)
        return district

    def _remember_district(self, user_id: int, district: str | None) -> None:
        """Bounded: one entry per user would grow without end over a long run (issue 12)."""
        self._districts[user_id] = district
        self._districts.move_to_end(user_id)
        while len(self._districts) > REMEMBERED_DISTRICTS:
            self._districts.popitem(last=False)

    async def set_district(self, user_id: int, district: str | None) -> None:
        await asyncio.to_thread(self.repos.preferences.set_district, user_id, district)
        self._remember_district(user_id, district)

    async def vote(self, user_id: int, chat_id: int, message_id: int, helpful: bool, faq_id: str | None,
                   query_id: int | None, answered_at, quoted: str | None = None) -> bool | None:
        """Records a 👍/👎 (one per user and answer; a second tap changes it); the earlier vote, if any."""
        return await asyncio.to_thread(self.repos.feedback.vote, user_id, chat_id, message_id, helpful, faq_id,
                                       query_id, answered_at, quoted)

    async def flood_exempt(self, user_id: int) -> bool:
        """Admins are not held to the workers' rate (asked only when someone is over it; remembered a
        minute, so a flood costs no database reads)."""
        now = time.monotonic()
        known = self._exempt.get(user_id)
        if known is not None and now - known[1] < 60:
            return known[0]
        exempt = await self.is_admin(user_id)
        if len(self._exempt) > 10_000:
            self._exempt.clear()
        self._exempt[user_id] = (exempt, now)
        return exempt

    async def is_admin(self, user_id: int | None) -> bool:
        if user_id is None:
            return False
        if user_id in self.app.settings.admin_ids:
            return True
        return await asyncio.to_thread(self.repos.admins.is_admin, user_id)


def services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    return context.application.bot_data[KEY]
