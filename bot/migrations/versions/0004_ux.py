"""conversation turns, bot persistence (admin drafts), one feedback vote per user and message

Revision ID: 0004_ux
Revises: 0003_reliability
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_ux'
down_revision = '0003_reliability'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_turns',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('turns', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('conversation_turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_turns_updated_at'), ['updated_at'], unique=False)

    op.create_table('bot_persistence',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'key')
    )

    # Short district names stored before every write path normalised them ("临平" -> "临平区"): such an
    # entry was never answered again, since the engine compares full names.
    for short, full in (('拱墅', '拱墅区'), ('富阳', '富阳区'), ('临平', '临平区'), ('上虞', '上虞区'), ('建德', '建德市')):
        for table in ('faq_entries', 'source_documents', 'stations', 'user_preferences'):
            op.execute(sa.text(f"UPDATE {table} SET district = :full WHERE district = :short")
                       .bindparams(full=full, short=short))

    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('message_id', sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint('uq_feedback_vote', ['user_id', 'chat_id', 'message_id'])


def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_constraint('uq_feedback_vote', type_='unique')
        batch_op.drop_column('message_id')
        batch_op.drop_column('chat_id')
    op.drop_table('bot_persistence')
    with op.batch_alter_table('conversation_turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_turns_updated_at'))
    op.drop_table('conversation_turns')
