"""Database tables (SQLAlchemy 2). Schema changes go through Alembic (bot/migrations)."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class FaqRow(Base):
    __tablename__ = "faq_entries"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    alternates: Mapped[list] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(String(20), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    sources: Mapped[list] = mapped_column(JSON, default=list)   # [{"document", "quote"}]
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    # Hash of the file version last imported: lets `kb import` tell an admin's edit from a file change.
    file_hash: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(80))


class SynonymRow(Base):
    __tablename__ = "synonyms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    canonical: Mapped[str] = mapped_column(String(60), unique=True)
    variants: Mapped[list] = mapped_column(JSON, default=list)


class SourceDocumentRow(Base):
    __tablename__ = "source_documents"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(String(20))
    years: Mapped[str] = mapped_column(String(40))
    publisher: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(Text)
    union_text_ends_at: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    added_by: Mapped[str | None] = mapped_column(String(80))


class StationRow(Base):
    __tablename__ = "stations"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(40), default="爱心驿站")
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(Text)
    hours: Mapped[str | None] = mapped_column(Text)
    services: Mapped[list] = mapped_column(JSON, default=list)
    is_example: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class UserPreferenceRow(Base):
    __tablename__ = "user_preferences"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    district: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class QueryLogRow(Base):
    __tablename__ = "query_log"
    # The two covering indexes serve `admin stats` and pruning from the index alone (migration 0003).
    __table_args__ = (Index("ix_query_log_matched_at", "matched", "created_at"),
                      Index("ix_query_log_created_summary", "created_at", "matched", "district"),
                      Index("ix_query_log_faq_at", "faq_id", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(20), default="telegram")
    question: Mapped[str] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(String(20))
    matched: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(20))
    faq_id: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FeedbackRow(Base):
    """A 👍/👎 under an answer: one vote per user and message (a second tap changes it)."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("user_id", "chat_id", "message_id", name="uq_feedback_vote"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)          # the answer message voted on
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    query_id: Mapped[int | None] = mapped_column(Integer)
    faq_id: Mapped[str | None] = mapped_column(String(100), index=True)
    question: Mapped[str | None] = mapped_column(Text)
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class AdminRow(Base):
    __tablename__ = "admins"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    added_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditRow(Base):
    """Every change to the knowledge: who, when, what it was before and after (the undo history)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class KbMetaRow(Base):
    """A version counter bumped by every knowledge write, so other processes notice and re-index."""

    __tablename__ = "kb_meta"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class EmbeddingRow(Base):
    """A knowledge text's vector, by model and text hash (knowledge.embedding): embedded once, by whichever
    process first needs it, for every process."""

    __tablename__ = "embedding_cache"

    model: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConversationTurnsRow(Base):
    """The recent turns of one conversation (a private chat, or one user in a group), for follow-ups."""

    __tablename__ = "conversation_turns"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)      # "<chat>" or "<chat>:<user>"
    turns: Mapped[list] = mapped_column(JSON, default=list)            # [Turn.to_json(), ...] oldest first
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class BotPersistenceRow(Base):
    """What the Telegram bot keeps across restarts (an admin's unfinished guided edit and its step)."""

    __tablename__ = "bot_persistence"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)    # "user_data", "conversation:<name>"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class InboxRow(Base):
    """Every Telegram update, recorded before it is acknowledged and marked when handled (bot.inbox).

    state: pending (to handle), sending (a reply may have left: never handled again), done.
    """

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_open", "bot_id", "state", "chat_key", "update_id"),)

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # bots may share a database
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_key: Mapped[int] = mapped_column(BigInteger)        # the chat (or the user, for inline queries)
    payload: Mapped[str] = mapped_column(Text)                # the update's JSON as received
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[float] = mapped_column(Float, default=0.0)   # epoch seconds: a retry waits until then
    note: Mapped[str | None] = mapped_column(String(80))     # how it ended when not plainly: uncertain, gave up...
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
