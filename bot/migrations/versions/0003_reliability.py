"""reliability: query-log indexes that cover `admin stats` and pruning; feedback by date

Revision ID: 0003_reliability
Revises: 0002

`admin stats` counts a window of the query log per day, district and answered, and
the five most asked entries: (created_at, matched, district) and (faq_id, created_at)
let both run from the index alone (300,000 rows: about 11.8 s of row loading before,
see bench/admin_stats.py). They replace the single-column indexes on the same leading
columns. Feedback gets an index on created_at for its window counts and pruning.
"""
from alembic import op


revision = '0003_reliability'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('query_log', schema=None) as batch_op:
        batch_op.drop_index('ix_query_log_created_at')
        batch_op.drop_index('ix_query_log_faq_id')
        batch_op.create_index('ix_query_log_created_summary', ['created_at', 'matched', 'district'], unique=False)
        batch_op.create_index('ix_query_log_faq_at', ['faq_id', 'created_at'], unique=False)
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_created_at')
    with op.batch_alter_table('query_log', schema=None) as batch_op:
        batch_op.drop_index('ix_query_log_faq_at')
        batch_op.drop_index('ix_query_log_created_summary')
        batch_op.create_index('ix_query_log_faq_id', ['faq_id'], unique=False)
        batch_op.create_index('ix_query_log_created_at', ['created_at'], unique=False)
