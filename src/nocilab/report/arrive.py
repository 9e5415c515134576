"""The ARRIVE 2.0 Essential 10, filled in from the study file and the store.

Each item gets a status (``documented``, ``partly``, ``missing``), the evidence the
study holds and what is missing, so the report shows a reviewer what a manuscript can
say and what the lab still has to write down (in the study file's ``[reporting]``
table, or by using ``nocilab allocate`` for randomisation and blinding).
"""

from __future__ import annotations

import pandas as pd

from nocilab.model import Study
from nocilab.report._plain import plain, plain_range

ITEMS = (
    (1, "Study design"),
    (2, "Sample size"),
    (3, "Inclusion and exclusion criteria"),
    (4, "Randomisation"),
    (5, "Blinding/masking"),
    (6, "Outcome measures"),
    (7, "Statistical methods"),
    (8, "Experimental animals"),
    (9, "Experimental procedures"),
    (10, "Results"),
)

COLUMNS = ("item", "title", "status", "evidence", "missing")


def _status(have: list[str], missing: list[str]) -> str:
    if not missing:
        return "documented"
    return "partly" if have else "missing"


def arrive_checklist(study: Study, *, derived: pd.DataFrame | None = None,
                     allocation: str | None = None, blinding: str | None = None,
                     statistics: str | None = None, blinded: bool = False) -> pd.DataFrame:
    """The Essential 10 for one study.

    Parameters
    ----------
    study
        The loaded study file.
    derived
        The derived table, for the numbers actually analysed (optional).
    allocation, blinding
        What the store records of randomised allocation and blinding (e.g.
        ``"nocilab allocate, seed 7, stratified by cage and sex"``), if anything.
    statistics
        The statistical methods paragraph the report writes, if any.
    blinded
        The study is still blinded: arms are counted, not named, and group sizes come
        from ``derived`` (whose ``arm`` column then holds coded groups).

    Returns
    -------
    pandas.DataFrame
        Columns ``item, title, status, evidence, missing``; status is one of
        ``documented``, ``partly``, ``missing``.
    """
    r = study.reporting
    animals = study.animal_table()
    rows = []

    def add(item: int, have: list[str], missing: list[str]) -> None:
        title = dict(ITEMS)[item]
        rows.append({"item": item, "title": title, "status": _status(have, missing),
                     "evidence": "; ".join(have), "missing": "; ".join(missing)})

    # 1 study design
    have, miss = [], []
    if blinded:
        have.append(f"{len(study.arms)} arms (named in the study file; withheld here while blinded)")
    else:
        arms = ", ".join(f"{a.label} ({a.id})" for a in study.arms)
        have.append(f"{len(study.arms)} arms: {arms}; control arm {study.control_arm}")
    if study.donors:
        have.append("experimental unit for claims about patients: the donor; mice nested in donors")
    else:
        miss.append("no donors listed: the experimental unit cannot be stated")
    add(1, have, miss)

    # 2 sample size
    have, miss = [], []
    if blinded and derived is not None:
        parts = [f"{g}: {d['animal'].nunique()} animals, {d['donor'].nunique()} vials"
                 for g, d in derived.groupby("arm")]
        have.append("; ".join(parts))
    elif len(animals):
        by_arm = animals[animals["arm"] != ""].groupby("arm")
        parts = [f"{arm}: {g['animal'].nunique()} animals, {g['donor'].nunique()} donor units"
                 for arm, g in by_arm]
        if parts:
            have.append("; ".join(parts))
        if (animals["arm"] == "").any():
            have.append(f"{int((animals['arm'] == '').sum())} animals not yet allocated")
    else:
        miss.append("no animals listed")
    if r.sample_size:
        have.append(f"how determined: {r.sample_size}")
    else:
        miss.append("how the sample size was decided ([reporting] sample_size, e.g. from nocilab power)")
    add(2, have, miss)

    # 3 inclusion / exclusion
    have, miss = [], []
    for label, text in (("inclusion", r.inclusion_criteria), ("exclusion", r.exclusion_criteria)):
        if text:
            have.append(f"{label}: {text}")
        else:
            miss.append(f"{label} criteria ([reporting] {label}_criteria)")
    if r.exclusions:
        have.append(f"exclusions: {r.exclusions}")
    if derived is not None and len(animals):
        analysed = derived["animal"].nunique()
        have.append(f"{analysed} of {len(animals)} animals have derived values")
    add(3, have, miss)

    # 4 randomisation, 5 blinding: what the store records and what the file says
    for item, recorded, written, missing in (
            (4, allocation, r.randomisation,
             "how animals were allocated (nocilab allocate, or [reporting] randomisation)"),
            (5, blinding, r.blinding, "who was blind to what, when ([reporting] blinding)")):
        have = [t for t in (recorded, written) if t]
        add(item, have, [] if have else [missing])

    # 6 outcome measures
    have, miss = [], []
    have.append("assays: " + ", ".join(f"{a} (days {', '.join(map(str, d))})"
                                       for a, d in study.schedule.items()))
    if r.primary_outcome:
        have.append(f"primary outcome: {r.primary_outcome}")
    else:
        miss.append("which outcome is primary ([reporting] primary_outcome)")
    add(6, have, miss)

    # 7 statistics
    add(7, [statistics] if statistics else [],
        [] if statistics else ["statistical methods (run nocilab analyze)"])

    # 8 animals
    have, miss = [], []
    have.append(f"species: {study.info.species}")
    for col, label in (("sex", "sex"), ("strain", "strain")):
        vals = sorted({str(v) for v in animals[col] if str(v)}) if len(animals) else []
        if vals:
            have.append(f"{label}: {', '.join(vals)}")
        else:
            miss.append(label)
    if len(animals) and animals["age_weeks"].notna().any():
        a = animals["age_weeks"].dropna()
        have.append(f"age {plain_range(a.min(), a.max(), 'weeks')}")
    else:
        miss.append("age")
    if len(animals) and animals["weight_g"].notna().any():
        w = animals["weight_g"].dropna()
        have.append(f"weight {plain_range(w.min(), w.max(), 'g', digits=1)}")
    else:
        miss.append("weight")
    if r.housing:
        have.append(f"housing: {r.housing}")
    if r.ethics_approval:
        have.append(f"ethics: {r.ethics_approval}")
    add(8, have, miss)

    # 9 procedures
    have, miss = [], []
    d = study.dosing
    have.append(f"IgG {d.amount_mg:g} mg per dose, {d.route}, study days {', '.join(map(str, d.days))}")
    for assay, settings in study.assays.items():
        opts = ", ".join(f"{k}={plain(v)}"
                         for k, v in settings.model_dump(exclude_none=True).items())
        have.append(f"{assay}: {opts}" if opts else assay)
    if r.procedures:
        have.append(r.procedures)
    else:
        miss.append("timing, place and handling of procedures ([reporting] procedures)")
    add(9, have, miss)

    # 10 results
    if derived is not None and len(derived):
        add(10, ["per arm and day: n, mean, SD/SEM, estimates with 95% CIs in this report"], [])
    else:
        add(10, [], ["no derived values yet"])
    return pd.DataFrame(rows, columns=list(COLUMNS))
