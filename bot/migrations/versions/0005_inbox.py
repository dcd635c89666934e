"""inbox: every Telegram update recorded before it is acknowledged, marked when handled

Revision ID: 0005_inbox
Revises: 0004_ux
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_inbox'
down_revision = '0004_ux'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('bot_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('chat_key', sa.BigInteger(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', sa.Float(), nullable=False),
    sa.Column('note', sa.String(length=80), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('bot_id', 'update_id')
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_open', ['bot_id', 'state', 'chat_key', 'update_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_done_at'), ['done_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_done_at'))
        batch_op.drop_index('ix_inbox_open')
    op.drop_table('inbox')
