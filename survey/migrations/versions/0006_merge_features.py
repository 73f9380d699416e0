"""Merge the feature branches (desks, sample, entry, reports) into one head.

Revision ID: 0006_merge_features
Revises: 0002_desks, 0003_sample, 0004_entry, 0005_reports
Create Date: 2026-11-22
"""

revision = "0006_merge_features"
down_revision = ("0002_desks", "0003_sample", "0004_entry", "0005_reports")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
