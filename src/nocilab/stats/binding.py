"""Binding of patient IgG to dorsal root ganglion cells, from per-cell measurements.

Each image of a DRG section was stained with one donor's IgG; image software measured
every neuron and every satellite-glial (SGC) ring. A cell *binds* when its mean
intensity exceeds a threshold set on the control donors' cells (default: their 99th
percentile, per cell class). Per image: the fraction of neurons and of SGC rings above
the threshold; per donor: the mean of those fractions over the donor's images, and the
donor's **binding score** (by default the mean SGC fraction). Arms are compared on the
donors' scores, one value per donor, never on cells (cells of one image, and images of
one donor, are not independent).

:func:`binding_analysis` does all of it; :func:`donor_arm_test` is the comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nocilab.errors import AnalysisError, one_of

CLASSES = ("neuron", "sgc")
NEURON_NAMES = ("neuron", "neurons", "neuronal")
SGC_NAMES = ("sgc", "sgc ring", "sgc rings", "satellite glia", "satellite glia ring",
             "satellite glial cell", "satellite glial ring", "ring")
TESTS = ("welch", "mann-whitney")
THRESHOLD_COLUMNS = ("cell_class", "threshold", "quantile", "n_control_cells",
                     "n_control_donors")
IMAGE_TABLE_COLUMNS = ("image", "donor", "preparation", "arm", "n_neurons",
                       "n_neurons_above", "neuron_fraction", "n_sgc", "n_sgc_above",
                       "sgc_fraction", "n_other")
DONOR_TABLE_COLUMNS = ("donor", "arm", "n_images", "n_neurons", "n_sgc", "neuron_fraction",
                       "sgc_fraction", "binding_score", "note")
TEST_COLUMNS = ("arm", "control", "test", "n_donors", "n_donors_control", "mean",
                "mean_control", "difference", "ci_low", "ci_high", "statistic", "df", "p",
                "method")


@dataclass(frozen=True, eq=False)
class BindingResult:
    """Thresholds, per-image and per-donor binding, and the arm comparison.

    ``thresholds`` (:data:`THRESHOLD_COLUMNS`), ``images`` (:data:`IMAGE_TABLE_COLUMNS`),
    ``donors`` (:data:`DONOR_TABLE_COLUMNS`; fractions are means over the donor's
    images), ``comparison`` (:data:`TEST_COLUMNS`, one row per arm against control).
    """

    thresholds: pd.DataFrame
    images: pd.DataFrame
    donors: pd.DataFrame
    comparison: pd.DataFrame
    control: str
    score: str
    quantile: float

    def methods(self) -> str:
        """A methods paragraph stating what was done."""
        test = self.comparison["method"].iloc[0] if len(self.comparison) else ""
        return (f"A cell was counted as binding when its mean intensity exceeded the "
                f"{100 * self.quantile:g}th percentile of the control donors' cells of its "
                "class (neurons and satellite-glial rings separately; all control cells "
                "pooled, linear interpolation as R's quantile type 7). Per image the "
                "fraction of neurons and of rings above the threshold was computed, per "
                "donor the mean over the donor's images; the donor's binding score is its "
                f"mean {self.score} fraction. Arms were compared on the donors' scores "
                f"(one value per donor) by {test}.")


def binding_analysis(cells: pd.DataFrame, images: pd.DataFrame, *, control: str,
                     quantile: float = 0.99, neuron_names: Sequence[str] = NEURON_NAMES,
                     sgc_names: Sequence[str] = SGC_NAMES, score: str = "sgc",
                     test: str = "welch", alpha: float = 0.05) -> BindingResult:
    """Thresholds on control donors' cells, binding fractions and the donor comparison.

    Parameters
    ----------
    cells
        One row per cell (:data:`nocilab.ingest.cells.CELL_COLUMNS`: ``image``,
        ``cell``, ``cell_class``, ``intensity``).
    images
        One row per image: ``image``, ``donor``, ``arm`` (``preparation`` optional).
    control
        The control arm: its donors' cells set the threshold.
    quantile
        The threshold is this quantile of the control cells' intensities (0.99).
    neuron_names, sgc_names
        Cell classes (any case) counted as neurons and as SGC rings; other classes are
        counted in ``n_other`` and otherwise left out.
    score
        ``"sgc"`` or ``"neuron"``: the fraction that makes the donor's binding score.
    test
        ``"welch"`` (Welch's t test on donor scores, with a ``1 - alpha`` CI of the
        difference) or ``"mann-whitney"`` (Wilcoxon-Mann-Whitney on donor scores: exact
        without ties and below 50 donors per arm, else the normal approximation with
        continuity correction, as R's ``wilcox.test``; the difference is the
        Hodges-Lehmann shift, without a CI).

    Returns
    -------
    BindingResult

    Raises
    ------
    AnalysisError
        An image of the cells table that the images table does not list, an image
        without an arm, an unknown control arm, no control cells of a class.

    Notes
    -----
    The threshold uses the control donors' own cells, so the control donors' fractions
    are near ``1 - quantile`` by construction (pooled over donors, a donor with many
    cells weighs more). An image without cells of a class has no fraction for it (not
    zero) and is left out of that donor mean.
    """
    if not 0 < quantile < 1:
        raise AnalysisError(f"the threshold quantile must be between 0 and 1; got {quantile:g}")
    if score not in CLASSES:
        raise AnalysisError(f"unknown binding score {score!r}; expected {one_of(CLASSES)}")
    if test not in TESTS:
        raise AnalysisError(f"unknown test {test!r}; expected {one_of(TESTS)}")
    for col in ("image", "cell_class", "intensity"):
        if col not in cells.columns:
            raise AnalysisError(f"cells table lacks column {col!r}")
    for col in ("image", "donor", "arm"):
        if col not in images.columns:
            raise AnalysisError(f"images table lacks column {col!r}")
    imgs = images.copy()
    if "preparation" not in imgs.columns:
        imgs["preparation"] = ""
    imgs = imgs.astype({"image": str, "donor": str, "arm": str})
    no_arm = imgs.loc[imgs["arm"].str.strip() == "", "image"].tolist()
    if no_arm:
        raise AnalysisError(f"image(s) without an arm: {', '.join(no_arm[:10])}; the images "
                            "table needs each image's arm")
    unknown = sorted(set(cells["image"].astype(str)) - set(imgs["image"]))
    if unknown:
        raise AnalysisError(f"image(s) in the cells table but not in the images table: "
                            f"{', '.join(unknown[:10])}{' ...' if len(unknown) > 10 else ''}")
    arms = sorted(set(imgs["arm"]))
    if control not in arms:
        raise AnalysisError(f"control arm {control!r} is not in the images table; expected "
                            f"{one_of(arms)}")
    c = cells.assign(image=cells["image"].astype(str))
    lower = c["cell_class"].astype(str).str.strip().str.lower()
    c["kind"] = np.where(lower.isin([n.lower() for n in neuron_names]), "neuron",
                         np.where(lower.isin([n.lower() for n in sgc_names]), "sgc", "other"))
    c = c.merge(imgs, on="image", how="left")
    thresholds = _thresholds(c, control, quantile)
    cut = dict(zip(thresholds["cell_class"], thresholds["threshold"], strict=True))
    c["above"] = c["intensity"].to_numpy(float) > c["kind"].map(cut).to_numpy(float)
    image_table = _images(c, imgs)
    donors = _donors(image_table, score)
    comparison = donor_arm_test(donors, control=control, test=test, alpha=alpha)
    return BindingResult(thresholds=thresholds, images=image_table, donors=donors,
                         comparison=comparison, control=control, score=score,
                         quantile=float(quantile))


def _thresholds(c: pd.DataFrame, control: str, q: float) -> pd.DataFrame:
    rows = []
    for kind in CLASSES:
        ctrl = c[(c["arm"] == control) & (c["kind"] == kind)]
        if ctrl.empty:
            raise AnalysisError(f"no {'neurons' if kind == 'neuron' else 'SGC rings'} in the "
                                f"control arm {control!r}: no threshold can be set (check the "
                                "class names)")
        rows.append((kind, float(np.quantile(ctrl["intensity"].to_numpy(float), q)), q,
                     len(ctrl), ctrl["donor"].nunique()))
    return pd.DataFrame(rows, columns=list(THRESHOLD_COLUMNS))


def _images(c: pd.DataFrame, imgs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, im in imgs.iterrows():
        g = c[c["image"] == im["image"]]
        row = {k: im[k] for k in ("image", "donor", "preparation", "arm")}
        for kind, n_col, a_col, f_col in (("neuron", "n_neurons", "n_neurons_above",
                                           "neuron_fraction"),
                                          ("sgc", "n_sgc", "n_sgc_above", "sgc_fraction")):
            k = g[g["kind"] == kind]
            row[n_col] = len(k)
            row[a_col] = int(k["above"].sum())
            row[f_col] = row[a_col] / len(k) if len(k) else np.nan
        row["n_other"] = int((g["kind"] == "other").sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=list(IMAGE_TABLE_COLUMNS))


def _donors(images: pd.DataFrame, score: str) -> pd.DataFrame:
    rows = []
    for donor, g in images.groupby("donor", sort=True):
        arms = sorted(set(g["arm"]))
        if len(arms) > 1:
            raise AnalysisError(f"donor {donor} has images in more than one arm "
                                f"({', '.join(arms)})")
        note = []
        for col in ("neuron_fraction", "sgc_fraction"):
            n_missing = int(g[col].isna().sum())
            if n_missing:
                note.append(f"{n_missing} image(s) without {col.split('_')[0]} cells left out")
        row = {"donor": donor, "arm": arms[0], "n_images": len(g),
               "n_neurons": int(g["n_neurons"].sum()), "n_sgc": int(g["n_sgc"].sum()),
               "neuron_fraction": float(g["neuron_fraction"].mean()),
               "sgc_fraction": float(g["sgc_fraction"].mean()), "note": "; ".join(note)}
        row["binding_score"] = row[f"{score}_fraction"]
        rows.append(row)
    return pd.DataFrame(rows, columns=list(DONOR_TABLE_COLUMNS))


def donor_arm_test(donors: pd.DataFrame, *, control: str, value: str = "binding_score",
                   test: str = "welch", alpha: float = 0.05) -> pd.DataFrame:
    """Each arm against the control on one value per donor.

    Parameters
    ----------
    donors
        One row per donor: ``donor``, ``arm`` and ``value``.
    test
        ``"welch"`` or ``"mann-whitney"`` (see :func:`binding_analysis`).

    Returns
    -------
    pandas.DataFrame
        :data:`TEST_COLUMNS`; an arm with fewer than 2 donors (or a control with fewer
        than 2) has NaN results and says so in ``method``.
    """
    if test not in TESTS:
        raise AnalysisError(f"unknown test {test!r}; expected {one_of(TESTS)}")
    if donors["donor"].duplicated().any():
        raise AnalysisError("one row per donor expected; donors repeat: "
                            + ", ".join(sorted(set(donors.loc[donors["donor"].duplicated(),
                                                              "donor"].astype(str)))))
    d = donors[np.isfinite(donors[value].to_numpy(float))]
    y = d.loc[d["arm"] == control, value].to_numpy(float)
    rows = []
    for arm in sorted(set(d["arm"]) - {control}):
        x = d.loc[d["arm"] == arm, value].to_numpy(float)
        row = dict.fromkeys(TEST_COLUMNS, np.nan)
        row.update(arm=arm, control=control, test=test, n_donors=len(x),
                   n_donors_control=len(y),
                   mean=float(x.mean()) if len(x) else np.nan,
                   mean_control=float(y.mean()) if len(y) else np.nan)
        if len(x) < 2 or len(y) < 2:
            row["method"] = "not tested: each arm needs at least 2 donors with a score"
        elif test == "welch":
            r = stats.ttest_ind(x, y, equal_var=False)
            ci = r.confidence_interval(1 - alpha)
            row.update(difference=float(x.mean() - y.mean()), ci_low=float(ci.low),
                       ci_high=float(ci.high), statistic=float(r.statistic),
                       df=float(r.df), p=float(r.pvalue),
                       method="Welch's t test on donor scores (two-sided)")
        else:
            ties = len(np.unique(np.concatenate([x, y]))) < len(x) + len(y)
            exact = not ties and len(x) < 50 and len(y) < 50
            r = stats.mannwhitneyu(x, y, alternative="two-sided", use_continuity=True,
                                   method="exact" if exact else "asymptotic")
            row.update(difference=float(np.median(np.subtract.outer(x, y))),
                       statistic=float(r.statistic), p=float(r.pvalue),
                       method="Wilcoxon-Mann-Whitney test on donor scores (two-sided, "
                              + ("exact" if exact else "normal approximation with continuity "
                                 "correction") + "); difference: Hodges-Lehmann shift")
        rows.append(row)
    return pd.DataFrame(rows, columns=list(TEST_COLUMNS))
