"""lab: plate-reader wells (ELISA, cytokine panels), plate exclusions, binding cells

Revision ID: 0004_lab
Revises: 0003_users
Create Date: 2026-12-05

- ``plates``: one row per plate of an imported reader export (name unique in the
  study, assay, reader label, layout file and its SHA-256, the export's ``imports``
  row, the number and the SHA-256 of its wells).
- ``plate_wells``: the raw wells: analyte, well, kind, sample, animal, study day,
  dilution, a standard's concentration and unit, the optical density or signal, the
  saturated flag.
- ``plate_status``: append-only exclusions and re-inclusions of plates, with reasons.
- ``binding_images`` and ``binding_cells``: per-cell measurement tables of IgG binding
  and the vial each image was stained with.

Every row is covered by an audit event; see ``nocilab.store._labdata``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_lab"
down_revision: str | Sequence[str] | None = "0003_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plates",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("plate", sa.Text, nullable=False),
        sa.Column("assay", sa.Text, nullable=False),
        sa.Column("reader_label", sa.Text, nullable=False),
        sa.Column("layout_name", sa.Text, nullable=False),
        sa.Column("layout_sha256", sa.String(64), nullable=False),
        sa.Column("import_id", sa.Integer, nullable=False),
        sa.Column("n_wells", sa.Integer, nullable=False),
        sa.Column("wells_sha256", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"],
                                name="fk_plates_import_id_imports"),
        sa.PrimaryKeyConstraint("id", name="pk_plates"),
        sa.UniqueConstraint("plate", name="uq_plates_plate"),
    )
    op.create_table(
        "plate_wells",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("plate_id", sa.Integer, nullable=False),
        sa.Column("analyte", sa.Text, nullable=False),
        sa.Column("well", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("sample", sa.Text, nullable=False),
        sa.Column("animal", sa.Text, nullable=True),
        sa.Column("study_day", sa.Integer, nullable=True),
        sa.Column("dilution", sa.Float, nullable=True),
        sa.Column("concentration", sa.Float, nullable=True),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("od", sa.Float, nullable=True),
        sa.Column("saturated", sa.Boolean, nullable=False),
        sa.ForeignKeyConstraint(["plate_id"], ["plates.id"],
                                name="fk_plate_wells_plate_id_plates"),
        sa.PrimaryKeyConstraint("id", name="pk_plate_wells"),
        sa.UniqueConstraint("plate_id", "analyte", "well", name="uq_plate_wells_plate_id"),
    )
    op.create_table(
        "plate_status",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("plate_id", sa.Integer, nullable=False),
        sa.Column("excluded", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["plate_id"], ["plates.id"],
                                name="fk_plate_status_plate_id_plates"),
        sa.PrimaryKeyConstraint("id", name="pk_plate_status"),
    )
    op.create_table(
        "binding_images",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("import_id", sa.Integer, nullable=False),
        sa.Column("image", sa.Text, nullable=False),
        sa.Column("vial", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"],
                                name="fk_binding_images_import_id_imports"),
        sa.PrimaryKeyConstraint("id", name="pk_binding_images"),
        sa.UniqueConstraint("image", name="uq_binding_images_image"),
    )
    op.create_table(
        "binding_cells",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("import_id", sa.Integer, nullable=False),
        sa.Column("image", sa.Text, nullable=False),
        sa.Column("cell", sa.Text, nullable=False),
        sa.Column("cell_class", sa.Text, nullable=False),
        sa.Column("intensity", sa.Float, nullable=False),
        sa.Column("area_um2", sa.Float, nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"],
                                name="fk_binding_cells_import_id_imports"),
        sa.PrimaryKeyConstraint("id", name="pk_binding_cells"),
    )


def downgrade() -> None:
    for table in ("binding_cells", "binding_images", "plate_status", "plate_wells", "plates"):
        op.drop_table(table)
