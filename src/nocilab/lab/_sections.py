"""The study-level sections built on the per-animal values: clearance, cytokine
equivalence, binding and donor correlations. Each returns its result and notes, or
raises :class:`AnalysisError` with the plain-words reason the section carries instead."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nocilab.elisa import half_lives
from nocilab.errors import AnalysisError
from nocilab.lab._frames import LAB_ASSAYS, listed
from nocilab.stats.binding import BindingResult, binding_analysis
from nocilab.stats.correlation import DonorCorrelations, clinical_table, donor_correlations
from nocilab.stats.donor_test import unit_means
from nocilab.stats.equivalence import EquivalencePanel, equivalence_panel

CLEARANCE_ANIMAL_COLUMNS = (
    "animal", "donor", "preparation", "arm", "n_points", "first_day", "last_day",
    "n_censored_left_out", "slope_per_day", "slope_se", "df", "elimination_rate_per_day",
    "half_life_days", "ci_low_days", "ci_high_days", "r_squared", "note",
)
CLEARANCE_GROUP_COLUMNS = (
    "level", "arm", "preparation", "n_units", "n_animals", "n_without_half_life",
    "geometric_mean_half_life_days", "ci_low_days", "ci_high_days", "df", "note",
)
"""``level`` ``preparation`` (the preparation's animals are the units) or ``arm`` (the
arm's preparations are the units: the geometric mean of their geometric means)."""
CYTOKINE_UNIT_COLUMNS = ("analyte", "test", "study_day", "unit_id", "arm", "n_animals",
                         "concentration", "censored", "bound", "unit", "note")
"""One row per analyte x day x unit of analysis (donor, or animal) as the equivalence
tests took it; ``test`` is the name the test's row carries."""
CORRELATION_VALUE_COLUMNS = ("donor", "arm")
"""Then one column per behavioural outcome (``ASSAY.OUTCOME``: the donor's mean change
from baseline over the window) and ``binding_score``."""


@dataclass(frozen=True, eq=False)
class ClearanceResult:
    """Half-lives per animal and their summary per preparation and arm."""

    animals: pd.DataFrame
    groups: pd.DataFrame
    after_day: float
    level: float
    analyte: str


def clearance(serum: pd.DataFrame, *, after_day: float, level: float) -> ClearanceResult:
    """Half-lives (``nocilab.elisa.half_lives``) of the serum values of one analyte, with
    ``donor``, ``preparation`` and ``arm`` columns."""
    if serum.empty:
        raise AnalysisError("no serum IgG concentrations")
    frame = serum.copy()
    for c in ("donor", "preparation", "arm"):
        frame[c] = frame[c].fillna("").astype(str)
    res = half_lives(frame, after_day=after_day, by=["arm", "preparation", "donor"],
                     level=level)
    animals = res.animals[list(CLEARANCE_ANIMAL_COLUMNS)].copy()
    if not np.isfinite(animals["half_life_days"].to_numpy(float)).any():
        raise AnalysisError("no animal has a half-life (" + listed(
            sorted(set(animals["note"]) - {""})) + ")")
    known = animals[animals["arm"] != ""]
    rows = []
    for (arm, prep), g in known.groupby(["arm", "preparation"], sort=True):
        rows.append({"level": "preparation", "arm": arm, "preparation": prep,
                     **_geometric(g["half_life_days"].to_numpy(float), level, "animal"),
                     "n_animals": len(g)})
    preps = pd.DataFrame(rows, columns=list(CLEARANCE_GROUP_COLUMNS))
    arms = []
    for arm, g in preps.groupby("arm", sort=True):
        row = {"level": "arm", "arm": arm, "preparation": "",
               **_geometric(g["geometric_mean_half_life_days"].to_numpy(float), level,
                            "preparation"),
               "n_animals": int(g["n_animals"].sum())}
        arms.append(row)
    groups = pd.concat([preps, pd.DataFrame(arms, columns=list(CLEARANCE_GROUP_COLUMNS))],
                       ignore_index=True)
    return ClearanceResult(animals=animals.reset_index(drop=True), groups=groups,
                           after_day=float(after_day), level=float(level),
                           analyte=str(serum["analyte"].iloc[0]) if "analyte" in serum else "")


def _geometric(hl: np.ndarray, level: float, unit: str) -> dict[str, object]:
    ok = hl[np.isfinite(hl) & (hl > 0)]
    out: dict[str, object] = {"n_units": len(hl), "n_without_half_life": int(len(hl) - len(ok)),
                              "geometric_mean_half_life_days": np.nan, "ci_low_days": np.nan,
                              "ci_high_days": np.nan, "df": max(len(ok) - 1, 0), "note": ""}
    if not len(ok):
        out["note"] = f"no {unit} with a half-life"
        return out
    logs = np.log(ok)
    out["geometric_mean_half_life_days"] = float(np.exp(logs.mean()))
    if len(ok) > 1:
        q = stats.t.ppf(0.5 + level / 2, len(ok) - 1)
        half = q * logs.std(ddof=1) / np.sqrt(len(ok))
        out["ci_low_days"] = float(np.exp(logs.mean() - half))
        out["ci_high_days"] = float(np.exp(logs.mean() + half))
    else:
        out["note"] = f"1 {unit} with a half-life: no interval"
    return out


@dataclass(frozen=True, eq=False)
class CytokineResult:
    """The equivalence tests of a panel and the values they were run on."""

    panel: EquivalencePanel
    units: pd.DataFrame
    unit_of_analysis: str
    notes: tuple[str, ...]


def cytokine_equivalence(values: pd.DataFrame, *, settings, control: str,
                         unit_of_analysis: str = "donor") -> CytokineResult:
    """Arm differences and TOST per analyte (``nocilab.stats.equivalence_panel``).

    ``values``: one row per analyte x animal x day (``analyte, animal, study_day,
    concentration, censored, bound, unit``) with the animals' ``donor`` and ``arm``.
    ``unit_of_analysis`` ``donor`` (default) first takes each donor's geometric mean over
    its animals; ``animal`` tests the animals as they are.
    """
    if unit_of_analysis not in ("donor", "animal"):
        raise AnalysisError(f"unknown unit of analysis {unit_of_analysis!r}; expected donor "
                            "or animal")
    notes: list[str] = []
    v = values.copy()
    unread = v["censored"].eq("none") & ~np.isfinite(v["concentration"].to_numpy(float))
    if unread.any():
        notes.append(f"{int(unread.sum())} animal-day value(s) not read (curve failed or "
                     "conflicting readings) left out")
    v = v[~unread]
    no_arm = v["arm"].astype(str).eq("")
    if no_arm.any():
        notes.append(f"{v.loc[no_arm, 'animal'].nunique()} animal(s) without an arm left out")
    v = v[~no_arm]
    if v.empty:
        raise AnalysisError("no cytokine value of an animal with an arm")
    arms = sorted(set(v["arm"].astype(str)))
    if len(arms) < 2:
        raise AnalysisError(f"one arm only ({arms[0]}): no arm difference to test")
    if control not in arms:
        raise AnalysisError(f"no cytokine values in the control arm {control}")
    days = sorted(set(v["study_day"].astype(int)))
    v["test"] = (v["analyte"].astype(str) if len(days) == 1 else
                 v["analyte"].astype(str) + " day " + v["study_day"].astype(int).astype(str))
    units = _units(v, unit_of_analysis, notes)
    present = set(units["analyte"])
    margins = {}
    unused = sorted(set(settings.margins) - present)
    if unused:
        notes.append(f"margins given for analyte(s) not measured: {listed(unused)}")
    for analyte, test in units[["analyte", "test"]].drop_duplicates().itertuples(index=False):
        if analyte in settings.margins:
            margins[test] = tuple(settings.margins[analyte])
    panel = equivalence_panel(units, control=control, analyte="test", arm="arm",
                              value="concentration", censored="censored", bound="bound",
                              unit="unit", scale="log10", margin=tuple(settings.margin),
                              margins=margins, margin_unit="ratio", alpha=settings.alpha,
                              adjust=settings.adjust)
    return CytokineResult(panel=panel, units=units[list(CYTOKINE_UNIT_COLUMNS)],
                          unit_of_analysis=unit_of_analysis, notes=tuple(notes))


def _units(v: pd.DataFrame, unit_of_analysis: str, notes: list[str]) -> pd.DataFrame:
    v = v.copy()
    if unit_of_analysis == "animal":
        v["unit_id"] = v["animal"].astype(str)
    else:
        donor = v["donor"].fillna("").astype(str)
        v["unit_id"] = np.where(donor != "", donor, "animal " + v["animal"].astype(str))
    rows, mixed, unlogged = [], 0, 0
    keys = ["analyte", "test", "study_day", "unit_id", "arm"]
    for key, g in v.groupby(keys, sort=True):
        cen = g["censored"].astype(str).to_numpy()
        y = np.where(cen == "none", g["concentration"].to_numpy(float),
                     g["bound"].to_numpy(float))
        row = dict(zip(keys, key, strict=True))
        row.update(n_animals=len(g), unit=str(g["unit"].iloc[0]), concentration=np.nan,
                   censored="none", bound=np.nan, note="")
        if np.any(~(y > 0)):
            unlogged += 1
            continue
        gm = float(10.0 ** np.mean(np.log10(y)))
        left, right = (cen == "left").any(), (cen == "right").any()
        if left and right:
            mixed += 1
            continue
        if left or right:
            row.update(censored="left" if left else "right", bound=gm)
            if len(g) > 1:
                row["note"] = (f"{int((cen != 'none').sum())} of {len(g)} animals censored: "
                               "the geometric mean with their bounds is a bound")
        else:
            row["concentration"] = gm
            if len(g) > 1:
                row["note"] = f"geometric mean of {len(g)} animals"
        rows.append(row)
    if unlogged:
        notes.append(f"{unlogged} value(s) <= 0 or missing cannot be logged: left out")
    if mixed:
        notes.append(f"{mixed} donor x analyte value(s) with animals below and above the "
                     "range: not bounded, left out")
    return pd.DataFrame(rows, columns=list(CYTOKINE_UNIT_COLUMNS))


def binding_images(images: pd.DataFrame, vials: pd.DataFrame, *, blinded: bool,
                   lookup: Callable[[str], tuple[str, str, str] | None] | None = None
                   ) -> tuple[pd.DataFrame, list[str]]:
    """Each image's preparation, donor and arm from its vial; images whose vial cannot be
    placed are left out (named by image, never by vial while blinded)."""
    m = images.merge(vials, on="vial", how="left")
    if lookup is not None and not blinded:
        for i in m.index[m["arm"].isna()]:
            hit = lookup(m.at[i, "vial"])
            if hit is not None:
                m.loc[i, ["preparation", "donor", "arm"]] = hit
    lost = m[m["arm"].isna() | m["arm"].eq("")]
    notes = []
    if len(lost):
        what = ("their vial codes are not those of this allocation" if blinded else
                f"vial(s) {listed(sorted(set(lost['vial'])))} are not vials or preparations "
                "of the study")
        notes.append(f"{len(lost)} image(s) left out ({listed(list(lost['image']))}): {what}")
    m = m.drop(index=lost.index)
    return m[["image", "donor", "preparation", "arm"]].reset_index(drop=True), notes


def binding(cells: pd.DataFrame, images: pd.DataFrame, *, settings, control: str
            ) -> tuple[BindingResult, list[str]]:
    """``nocilab.stats.binding_analysis`` on the cells of the placed images."""
    notes = []
    if cells.empty:
        raise AnalysisError("no per-cell measurements")
    if images.empty:
        raise AnalysisError("no image could be placed with a preparation and an arm")
    stray = sorted(set(cells["image"]) - set(images["image"]))
    if stray:
        notes.append(f"cells of {len(stray)} image(s) without a placed vial left out")
    c = cells[cells["image"].isin(images["image"])]
    if c.empty:
        raise AnalysisError("no cells in the images that could be placed")
    arms = sorted(set(images["arm"]))
    if len(arms) < 2:
        raise AnalysisError(f"one arm only ({arms[0]}): no control donors to set the "
                            "threshold on and no arm comparison")
    if control not in arms:
        raise AnalysisError(f"no image of the control arm {control}: the threshold is set on "
                            "control donors' cells")
    res = binding_analysis(c, images, control=control, quantile=settings.quantile,
                           score=settings.score, test=settings.test)
    return res, notes


@dataclass(frozen=True, eq=False)
class CorrelationResult:
    """Donor correlations and the per-donor values behind them."""

    correlations: DonorCorrelations
    values: pd.DataFrame
    clinical: pd.DataFrame
    window: str
    notes: tuple[str, ...]


def donor_effects(derived: pd.DataFrame, *, log_outcomes, window) -> tuple[pd.DataFrame, str,
                                                                             list[str]]:
    """Each donor's mean change from baseline over ``window`` per behavioural outcome."""
    beh = derived[~derived["assay"].astype(str).isin(LAB_ASSAYS)]
    table: pd.DataFrame | None = None
    notes, texts = [], set()
    for (assay, outcome), g in beh.groupby(["assay", "outcome"], sort=True):
        name = f"{assay}.{outcome}"
        g = g.copy()
        v = g["value"].to_numpy(float)
        if "bound" in g.columns:
            v = np.where(np.isfinite(v), v, g["bound"].to_numpy(float))
        if name in set(log_outcomes):
            with np.errstate(divide="ignore", invalid="ignore"):
                v = np.where(v > 0, np.log10(v), np.nan)
        g["v"] = v
        base = sorted(d for d in g["study_day"].unique() if d < 0)
        try:
            units, quantity, wtext, n = unit_means(g, value="v", arm="arm", day="study_day",
                                                   animal="animal", donor="donor",
                                                   baseline_days=base, window=window)
        except AnalysisError as exc:
            notes.append(f"{name}: {exc}")
            continue
        texts.add(wtext)
        notes += [f"{name}: {x}" for x in n]
        units = units[units["unit"].str.startswith("donor ")]
        col = pd.DataFrame({"donor": units["unit"].str.slice(len("donor ")),
                            "arm": units["arm"], name: units["value"].to_numpy(float)})
        table = col if table is None else table.merge(col, on=["donor", "arm"], how="outer")
    if table is None:
        table = pd.DataFrame(columns=list(CORRELATION_VALUE_COLUMNS))
    return table, ", ".join(sorted(texts)), notes


def correlations(derived: pd.DataFrame, binding_donors: pd.DataFrame | None, study, *,
                 settings, control: str, log_outcomes, window,
                 include_control_donors: bool = False) -> CorrelationResult:
    """``nocilab.stats.donor_correlations`` of each donor's mouse effect and binding score
    against the donors' clinical fields (only ever called unblinded)."""
    effects, wtext, notes = donor_effects(derived, log_outcomes=log_outcomes, window=window)
    values = effects
    if binding_donors is not None and len(binding_donors):
        b = binding_donors[["donor", "arm", "binding_score"]]
        values = b if values.empty else values.merge(b, on=["donor", "arm"], how="outer")
    if values.empty:
        raise AnalysisError("no donor has a mouse effect or a binding score")
    if not include_control_donors:
        values = values[values["arm"] != control]
        notes.append(f"control-arm ({control}) donors left out: over patients and controls "
                     "together a correlation mostly restates the group difference")
    clinical, skipped = clinical_table(study.donors)
    for field, why in skipped.items():
        notes.append(f"clinical field {field} left out: {why}")
    fields = list(settings.fields) if settings.fields is not None else \
        [c for c in clinical.columns if c != "donor"]
    missing = [f for f in fields if f not in clinical.columns]
    text = (f"[lab.correlations] field(s) {listed(missing)}: not a numeric clinical field of "
            "the donors" if missing else "")
    fields = [f for f in fields if f in clinical.columns]
    if not fields:
        raise AnalysisError(text or "the donors have no numeric clinical field to correlate "
                            "with")
    if text:
        notes.append(f"{text}; left out")
    known = set(clinical["donor"])
    pooled = sorted(set(values["donor"]) - known)
    if pooled:
        notes.append(f"{len(pooled)} unit(s) that are not single donors (pools, vehicle) "
                     f"have no clinical fields: {listed(pooled)}")
    values = values[values["donor"].isin(known)].reset_index(drop=True)
    outcomes = [c for c in values.columns if c not in CORRELATION_VALUE_COLUMNS]
    if values.empty or not outcomes:
        raise AnalysisError("no donor with both a clinical field and a mouse effect or "
                            "binding score")
    res = donor_correlations(values.drop(columns="arm"), clinical, outcomes=outcomes,
                             fields=fields, adjust=settings.adjust)
    return CorrelationResult(correlations=res, values=values, clinical=clinical[
        ["donor", *fields]], window=wtext, notes=tuple(notes))
