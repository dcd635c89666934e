"""Recognising a schema that a killed first start left half made, before migrating.

Why: until migrations ran in one transaction on SQLite, a first start killed during
its migration could leave some tables and no Alembic version row, and every later
start then failed on "table already exists". Tables that hold no rows and have no
version row can only be such a leftover, so they are dropped and the migration runs
again. Tables holding data without a version row are never dropped: that needs a person.
"""
from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from .models import Base

VERSION_TABLE = "alembic_version"


class HalfMadeSchema(Exception):
    """Tables with data but no migration version: the message says what to check."""


def repair_half_made_schema(conn: Connection) -> list[str]:
    """Drops the empty leftovers of an interrupted first migration; returns the tables dropped."""
    present = set(inspect(conn).get_table_names())
    if VERSION_TABLE in present and conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar():
        return []
    ours = sorted(present & set(Base.metadata.tables))
    if not ours:
        return []
    holding = [name for name in ours if conn.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first()]
    if holding:
        raise HalfMadeSchema(
            f"数据库里有数据表（{'、'.join(holding)} 中有数据），却没有迁移版本记录（{VERSION_TABLE}）。"
            "为免丢失数据，没有自动修复：请确认这是本机器人的数据库，备份后用 "
            "`alembic stamp` 写入正确的版本，或换一个新的 DATABASE_URL。")
    dropped = [*ours, *([VERSION_TABLE] if VERSION_TABLE in present else [])]
    for name in dropped:
        conn.execute(text(f'DROP TABLE "{name}"'))
    return dropped
