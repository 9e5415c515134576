"""nocilab: passive-transfer pain studies from design to report.

Subpackages, in the order a study flows through them:

- ``nocilab.model``   the study definition (study.toml), typed and validated.
- ``nocilab.assays``  pure calculators, one module per assay, and their registry.
- ``nocilab.store``   the database: schema, Alembic migrations, the audit chain.
- ``nocilab.ingest``  CSV/XLSX readers (tidy and wide), validation, all-or-nothing loading.
- ``nocilab.design``  randomised allocation, blinding, power by simulation.
- ``nocilab.stats``   donor-aware mixed models, repeated-measures ANOVA, per-donor effects.
- ``nocilab.report``  figures, the HTML report, exports (CSV, XLSX, Prism .pzfx).
- ``nocilab.demo``    the simulated passive-transfer study behind ``nocilab demo``.

``nocilab.errors`` holds the one exception hierarchy; ``nocilab.schema`` the column
sets of the tidy tables passed between layers.
"""

__version__ = "0.1.0"
