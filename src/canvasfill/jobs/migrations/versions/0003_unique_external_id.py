"""one task per (key, dialect, external id)

Revision ID: 0003
Revises: 0002

A caller's own task id (Kling's ``external_task_id``) names one task per key. A check
before the insert let concurrent twins through; a unique index decides between them.
Duplicates a race already stored keep the id on the newest task only.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE tasks SET external_id = NULL WHERE external_id IS NOT NULL AND seq NOT IN "
        "(SELECT MAX(seq) FROM tasks WHERE external_id IS NOT NULL "
        "GROUP BY key_id, dialect, external_id)"
    )
    op.drop_index("ix_tasks_external", table_name="tasks")
    op.create_index("ix_tasks_external", "tasks", ["key_id", "dialect", "external_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_tasks_external", table_name="tasks")
    op.create_index("ix_tasks_external", "tasks", ["key_id", "dialect", "external_id"])
