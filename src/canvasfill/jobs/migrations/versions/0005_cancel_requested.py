"""stop requests for running tasks

Revision ID: 0005
Revises: 0004

``cancel_requested_at`` is when the caller asked to cancel a task that was already
running; its worker, on whatever node, reads it between the engine's steps and stops.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("cancel_requested_at")
