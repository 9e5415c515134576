"""``nocilab analyze``: from a study's store to its report folder.

:func:`analyze_study` derives the values, runs :func:`nocilab.stats.analysis.analyze_table`
and writes the report (:func:`nocilab.report.build.write_report`). It refuses to name
arms while the study is blinded; with ``blinded=True`` it analyses the coded groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from nocilab.errors import AnalysisError, BlindingError
from nocilab.model import Study

# Expected direction of a patient-IgG effect, fixed in advance, for classifying donors.
DEFAULT_DIRECTIONS = {
    "threshold_g": "decrease", "latency_s": "decrease", "count": "increase",
    "force_g": "decrease", "force_g_per_g": "decrease", "distance_m": "decrease",
    "counts": "decrease", "fibres_per_mm": "decrease", "weight_g": "either",
}


def analyze_study(study: Study, store, out: Path, *, baseline: str = "raw", posttest: str = "sidak",
                  window: tuple[int, int | None] | None = None, window_option: str = "--window",
                  window_given_on: str = "command line", blinded: bool = False, directions: dict[str, str] | None = None,
                  outcomes: Sequence[str] | None = None, scale: str | None = None) -> Path:
    """Analyse every outcome of a study and write the report folder; return report.html.

    ``window`` (first, last post-injection day; ``last`` None: the last day measured) is
    the analysis window given on the command line (``window_option`` says how, for the
    report); without it the study file's (:meth:`Study.analysis_window`), else day 1 to
    the last day. ``outcomes`` (``ASSAY.OUTCOME``, or an outcome name measured by one
    assay) limits the analysis and the report to those outcomes
    (:func:`select_outcomes`); Holm's correction then runs over them. ``scale``:
    ``log10`` analyses every outcome on the log10 scale, ``linear`` none; None (default)
    those the study file lists in ``[analysis] log_outcomes``.

    Raises
    ------
    BlindingError
        The study is blinded and ``blinded`` is False.
    AnalysisError
        There is nothing to analyse, or an outcome named is not in the study.
    """
    from nocilab.derive import derive_observations
    from nocilab.design.blinding import assignments, blinding_state, group_codes
    from nocilab.report.build import ReportInputs, write_report
    from nocilab.stats.analysis import analyze_table
    from nocilab.stats.scale import check_scale
    from nocilab.stats.window import choose_window

    state = blinding_state(study, store)
    arm_labels = {a.id: a.label for a in study.arms}
    control = study.control_arm
    allocation_text = blinding_text = ""
    if state in ("blinded", "unblinded"):
        allocation_text = "randomised by nocilab allocate (seeded; balanced per donor, cage and sex)"
    if state == "blinded":
        if not blinded:
            raise BlindingError(
                f"{study.info.id} is blinded: the report would name arms. Unblind it first "
                "(nocilab unblind STUDY --reason ...), or run nocilab analyze --blinded to analyse "
                "coded groups without naming arms")
        assign = _coded_groups(assignments(study, store, reveal=False), group_codes(store))
        control = sorted(assign["arm"].unique())[0]
        arm_labels = {g: g for g in assign["arm"].unique()}
        blinding_text = (f"analysis run blinded: arms shown as coded groups; {control} is the "
                         "reference only because its letter comes first")
    else:
        assign = assignments(study, store, reveal=True)
        if state == "unblinded":
            blinding_text = ("experimenters saw animal and vial codes only until the recorded "
                             "unblinding (audit trail)")
    derived = derive_observations(store.observations(), study, assignments=assign)
    derived = derived[derived["arm"].astype(str) != ""]
    if derived.empty:
        raise AnalysisError(f"{study.info.id}: no derived values to analyse (import raw readings first)")
    selection = ""
    if outcomes:
        derived = select_outcomes(derived, outcomes, what=study.info.id)
        selection = ", ".join(f"{a}.{o}" for a, o in
                              derived[["assay", "outcome"]].drop_duplicates().itertuples(index=False))
    baseline_days = tuple(sorted(d for d in derived["study_day"].unique() if d < 0))
    dirs = dict(DEFAULT_DIRECTIONS)
    dirs.update(directions or {})
    win = choose_window(command_line=window, option=window_option, given_on=window_given_on,
                        study_window=study.analysis_window())
    if scale is None:
        logs = study.analysis.log_outcomes
        log_source = "listed in the study file's [analysis] log_outcomes"
    else:
        logs = tuple(f"{a}.{o}" for a, o in derived[["assay", "outcome"]].drop_duplicates()
                     .itertuples(index=False)) if check_scale(scale) == "log10" else ()
        log_source = "chosen on the command line with --scale log"
    analysis = analyze_table(derived, control=control, baseline_days=baseline_days, baseline=baseline,
                             posttest=posttest, directions=dirs, auc_window=win,
                             log_outcomes=logs, log_source=log_source)
    lab = _lab_readouts(study, store, derived, assign, control=control,
                        blinded=(state == "blinded"), window=win)
    audit = store.verify_audit()
    imports = store.imports()
    seeds = []
    if store.get_meta("simulation_seed"):
        seeds.append(f"simulation {store.get_meta('simulation_seed')}")
    if state == "unblinded":
        from nocilab.design.blinding import allocation_seed

        seeds.append(f"allocation {allocation_seed(store)}")
    elif state == "blinded":
        seeds.append("allocation seed sealed in the encrypted key until unblinding")
    inputs = ReportInputs(
        study=study, derived=derived, analysis=analysis, arm_labels=arm_labels, control=control,
        dosing_days=tuple(study.dosing.days), imports=imports,
        audit_head=f"{audit.head_hash} ({audit.n_events} events, {'intact' if audit.ok else 'BROKEN'})",
        allocation=allocation_text, blinding=blinding_text, blinded=(state == "blinded"),
        posttest=posttest, seed="; ".join(seeds), selection=selection, lab=lab)
    return write_report(inputs, Path(out))


def _lab_readouts(study: Study, store, derived: pd.DataFrame, assign: pd.DataFrame, *,
                  control: str, blinded: bool, window):
    """The laboratory readouts of the study (plates, binding), or None without any."""
    from nocilab.lab import lab_readouts
    from nocilab.report.lab_report import has_lab_data

    wells = store.plate_wells(include_excluded=True)
    cells = store.binding_cells()
    if not has_lab_data(wells, cells):
        return None
    return lab_readouts(study, wells, cells, store.binding_images(), derived, assign,
                        control=control, blinded=blinded, window=window)


def select_outcomes(frame: pd.DataFrame, names: Sequence[str], *, what: str,
                    outcome: str = "outcome", assay: str | None = "assay") -> pd.DataFrame:
    """The rows of ``frame`` holding the outcomes ``names``, in the table's order.

    A name is ``ASSAY.OUTCOME`` (when the table has an ``assay`` column) or an outcome
    name; a bare outcome name measured by several assays is ambiguous.

    Raises
    ------
    AnalysisError
        A name matches no outcome (or several); the message lists the outcomes there are.
    """
    has_assay = assay is not None and assay in frame.columns
    outs = frame[outcome].astype(str)
    full = (frame[assay].astype(str) + "." + outs) if has_assay else outs
    known = sorted(set(full))
    keep = pd.Series(False, index=frame.index)
    for name in names:
        hit = full == name
        if not hit.any():
            hit = outs == name
            if has_assay and frame.loc[hit, assay].nunique() > 1:
                both = ", ".join(dict.fromkeys(full[hit]))
                raise AnalysisError(f"{what}: outcome {name} is measured by several assays "
                                    f"({both}); name it as ASSAY.OUTCOME")
        if not hit.any():
            raise AnalysisError(f"{what}: no outcome {name}; outcomes: {', '.join(known)}")
        keep |= hit
    return frame[keep]


def _coded_groups(assign: pd.DataFrame, groups: dict[str, str]) -> pd.DataFrame:
    """Blinded analysis: every animal's arm is the coded group of its vial.

    The groups (``group K`` ...) were drawn at allocation, one per arm, and say which
    vials share an arm but not which arm; donors stay vial codes.
    """
    if not groups:
        raise BlindingError("this allocation has no coded groups (it predates them): "
                            "a blinded analysis cannot tell arms apart; unblind to analyse")
    out = assign.copy()
    out["arm"] = out["vial_code"].map(groups).fillna("")
    return out
