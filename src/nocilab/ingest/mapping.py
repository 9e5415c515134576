"""Import mappings built from command-line options."""

from __future__ import annotations

from pydantic import ValidationError

from nocilab.errors import NocilabError
from nocilab.model import ImportMapping, Study


def study_mapping(study: Study, name: str) -> ImportMapping:
    """The ``[mappings.NAME]`` table of the study file; NocilabError naming the known ones."""
    if name not in study.mappings:
        known = ", ".join(sorted(study.mappings)) or "none"
        raise NocilabError(f"no mapping {name!r} in {study.path}; mappings: {known}")
    return study.mappings[name]


def build_mapping(*, layout: str, assay: str | None, animal: str, day: str | None,
                  trial: str | None, quantity: list[str], columns: str | None,
                  sheet: str | None, skip_rows: int) -> ImportMapping:
    """Build an :class:`~nocilab.model.ImportMapping` from command-line options.

    For ``long`` sheets ``quantity`` holds ``QUANTITY=COLUMN`` pairs (a bare
    ``QUANTITY`` means the column has the quantity's name); for ``wide`` sheets it
    holds the one quantity the cells hold.
    """
    fields: dict[str, object] = {"layout": layout, "animal": animal, "sheet": sheet,
                                 "skip_rows": skip_rows}
    if assay is not None:
        fields["assay"] = assay
    if layout == "wide":
        if len(quantity) != 1 or "=" in quantity[0]:
            raise NocilabError("a wide sheet holds one quantity: give it as --quantity NAME "
                               "(e.g. --quantity force_g)")
        fields["quantity"] = quantity[0]
        fields["columns"] = columns
    else:
        pairs = {}
        for q in quantity:
            name, _, col = q.partition("=")
            pairs[name.strip()] = (col or name).strip()
        fields["quantities"] = pairs
        fields["day"] = day
        if trial is not None:
            fields["trial"] = trial
        if columns is not None:
            raise NocilabError("--columns is for wide sheets (--layout wide)")
    try:
        return ImportMapping(**fields)
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'mapping'}: {e['msg']}" for e in exc.errors())
        raise NocilabError(f"bad import options: {msgs}") from None
