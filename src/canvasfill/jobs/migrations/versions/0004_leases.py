"""task leases and dispatch times

Revision ID: 0004
Revises: 0003

A running task carries ``lease_until``, renewed by its worker; a lapsed lease means its
process died and the task may be run again. ``dispatched_at`` is when a queued task was
last published, so the sweeper can publish again one whose message was lost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
    # tasks a stopped server left running: their lease is already over
    op.execute("UPDATE tasks SET lease_until = updated_at WHERE status = 'running'")


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("dispatched_at")
        batch_op.drop_column("lease_until")
