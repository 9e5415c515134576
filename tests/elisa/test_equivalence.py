"""Arm differences and equivalence tests (TOST) per analyte.

Against R (tests/elisa/r/equivalence.R on tests/data/elisa/cytokine_values.csv): Welch
statistics, one-sided tests and intervals to 1e-10 relative (closed forms); the Tobit
sensitivity analysis, and the p-values used and adjusted (Holm, BH), which take the
Tobit p-value where values are censored, to 1e-6 relative (two optimisers of the
same likelihood: BFGS with a numerical Hessian here, Newton-Raphson in survreg).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nocilab.errors import AnalysisError
from nocilab.stats.equivalence import EQUIVALENCE_COLUMNS, equivalence_panel, welch_tost
from nocilab.stats.multiplicity import benjamini_hochberg

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "elisa" / "cytokine_values.csv"
REF = HERE / "r" / "reference_equivalence.csv"


def test_hand_worked_tost():
    # treated 2, 4, 6: mean 4, variance ((-2)^2 + 0 + 2^2) / 2 = 4, variance of the mean 4/3
    # control 3, 5, 5, 7: mean 5, variance (4 + 0 + 0 + 4) / 3 = 8/3, of the mean 8/12 = 2/3
    # difference 4 - 5 = -1; se^2 = 4/3 + 2/3 = 2, se = sqrt(2) = 1.414214
    # Welch df = 2^2 / ((4/3)^2 / 2 + (2/3)^2 / 3) = 4 / (8/9 + 4/27) = 4 / (28/27) = 27/7
    # margin -3, +3:
    #   t_lower = (-1 - (-3)) / sqrt(2) = sqrt(2) = 1.414214; p_lower = P(T_{27/7} > 1.414)
    #   t_upper = (-1 - 3) / sqrt(2) = -2 sqrt(2) = -2.828427; p_upper = P(T_{27/7} < -2.828)
    #   p_tost = the larger = p_lower (the difference is nearer the lower bound)
    # 90% TOST interval: -1 -+ t_{0.95, 27/7} sqrt(2)
    r = welch_tost([2, 4, 6], [3, 5, 5, 7], lower=-3, upper=3)
    assert r.difference == pytest.approx(-1.0, abs=1e-14)
    assert r.se == pytest.approx(np.sqrt(2), rel=1e-14)
    assert r.df == pytest.approx(27 / 7, rel=1e-14)
    assert r.t_lower == pytest.approx(np.sqrt(2), rel=1e-14)
    assert r.t_upper == pytest.approx(-2 * np.sqrt(2), rel=1e-14)
    assert r.p_lower == pytest.approx(stats.t.sf(np.sqrt(2), 27 / 7), rel=1e-12)
    assert r.p_upper == pytest.approx(stats.t.cdf(-2 * np.sqrt(2), 27 / 7), rel=1e-12)
    assert r.p_tost == r.p_lower
    q = stats.t.ppf(0.95, 27 / 7)
    assert (r.tost_ci_low, r.tost_ci_high) == pytest.approx((-1 - q * np.sqrt(2),
                                                             -1 + q * np.sqrt(2)), rel=1e-12)
    # the TOST interval lies inside the margin exactly when p_tost < alpha
    inside = -3 < r.tost_ci_low and r.tost_ci_high < 3
    assert inside == r.equivalent


def test_tost_duality_of_interval_and_p():
    rng = np.random.default_rng(3)
    for _ in range(50):
        x, y = rng.normal(0, 1, 8), rng.normal(0.2, 1.5, 11)
        r = welch_tost(x, y, lower=-1.0, upper=1.2, alpha=0.05)
        assert (r.lower < r.tost_ci_low and r.tost_ci_high < r.upper) == (r.p_tost < 0.05)


@pytest.fixture(scope="module")
def values() -> pd.DataFrame:
    return pd.read_csv(DATA)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(REF)


@pytest.mark.parametrize("scale", ["log10", "linear"])
def test_panel_matches_r(values, reference, scale):
    ref = reference[reference["scale"] == scale].set_index("analyte")
    for adjust, suffix in (("holm", "holm"), ("bh", "bh")):
        t = equivalence_panel(values, control="control",
                              scale=scale, margin=(0.8, 1.25), adjust=adjust).table
        t = t.set_index("analyte").loc[ref.index]
        for col in ("difference", "se", "df", "p", "ci_low", "ci_high", "margin_low",
                    "margin_high", "p_lower", "p_upper", "p_tost", "tost_ci_low",
                    "tost_ci_high"):
            np.testing.assert_allclose(t[col], ref[col], rtol=1e-10, atol=1e-300,
                                       err_msg=f"{scale} {col}")
        # these hold Tobit p-values where values are censored: 1e-6 as the Tobit columns
        for col, rcol in (("p_used", "p_used"), ("p_tost_used", "p_tost_used"),
                          ("p_adj", f"p_{suffix}"), ("p_tost_adj", f"p_tost_{suffix}")):
            np.testing.assert_allclose(t[col], ref[rcol], rtol=1e-6, err_msg=f"{adjust} {col}")
        cen = ref["tobit_p"].notna()
        assert (t["tobit_p"].notna() == cen).all()
        for col in ("tobit_difference", "tobit_se", "tobit_p", "tobit_p_tost"):
            np.testing.assert_allclose(t.loc[cen, col], ref.loc[cen, col], rtol=1e-6,
                                       err_msg=f"{scale} {col}")


def test_conclusions_and_columns(values):
    panel = equivalence_panel(values, control="control")
    t = panel.table
    assert tuple(t.columns) == EQUIVALENCE_COLUMNS
    c = dict(zip(t["analyte"], t["conclusion"], strict=True))
    assert c["IL1B"] == "different"           # simulated ratio 2
    assert c["TNF"] == "equivalent within the margin"   # tight, no true difference
    assert c["IL10"] == "inconclusive"        # noisy: neither test rejects after Holm
    assert "no difference" not in " ".join(t["conclusion"])
    assert t.loc[t["analyte"] == "IL1B", "ratio"].iloc[0] == pytest.approx(
        10 ** t.loc[t["analyte"] == "IL1B", "difference"].iloc[0])
    assert "Holm" in panel.methods() and "log10" in panel.methods()
    il6 = t[t["analyte"] == "IL6"].iloc[0]
    assert il6["n_censored"] == 1 and "censored" in il6["note"]
    assert il6["p_tost_used"] == max(il6["p_tost"], il6["tobit_p_tost"])


def test_censoring_cannot_create_equivalence():
    # control all quantified (about 11.7); treated mostly below the LLOQ of 10: at the
    # bound the arms look alike within the margin (TOST p < 0.05), the censored-normal
    # model sees that the treated values lie lower, and the conclusion follows it
    rng = np.random.default_rng(1)
    ctrl = 10 ** rng.normal(1.07, 0.03, 12)
    rows = [("X", "control", v, "none", np.nan) for v in ctrl]
    rows += [("X", "patient", np.nan, "left", 10.0)] * 9
    rows += [("X", "patient", v, "none", np.nan) for v in (10.2, 10.5, 10.6)]
    d = pd.DataFrame(rows, columns=["analyte", "arm", "concentration", "censored", "bound"])
    row = equivalence_panel(d, control="control", adjust="none").table.iloc[0]
    assert row["p_tost"] < 0.05 < row["tobit_p_tost"]
    assert row["p_tost_used"] == row["tobit_p_tost"]
    assert row["tobit_difference"] < row["difference"] < 0
    assert row["conclusion"] != "equivalent within the margin"


def test_all_censored_arm_is_inconclusive_with_reason():
    rows = [("X", "control", v, "none", np.nan) for v in (10, 11, 12, 13)]
    rows += [("X", "patient", np.nan, "left", 8.0)] * 4
    d = pd.DataFrame(rows, columns=["analyte", "arm", "concentration", "censored", "bound"])
    row = equivalence_panel(d, control="control").table.iloc[0]
    assert row["conclusion"] == "inconclusive"
    assert "cannot be fitted" in row["note"]


def test_absolute_and_per_analyte_margins(values):
    t = equivalence_panel(values, control="control", margin_unit="absolute",
                          margin=(-0.5, 0.5), margins={"IL1B": (-0.1, 0.1)}).table
    t = t.set_index("analyte")
    assert t.loc["IL1B", "margin_high"] == 0.1 and t.loc["TNF", "margin_low"] == -0.5


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"control": "vehicle"}, "control arm 'vehicle' is not in column 'arm'"),
    ({"control": "control", "scale": "ln"}, "unknown scale 'ln'"),
    ({"control": "control", "adjust": "fdr"}, "expected one of holm, bh, none"),
    ({"control": "control", "margin": (1.2, 0.8)}, "LOW (1.2) must be below HIGH"),
    ({"control": "control", "margin": (0.5, 0.9)}, "0 < LOW < 1 < HIGH"),
    ({"control": "control", "margins": {"IL2": (0.8, 1.25)}}, "not in the table: IL2"),
])
def test_bad_settings_are_named(values, kwargs, words):
    with pytest.raises(AnalysisError, match=None) as info:
        equivalence_panel(values, **kwargs)
    assert words in str(info.value)


def test_bh_matches_known_values():
    # R: p.adjust(c(0.5, 0.01, 0.2, 0.04, 0.9), "BH") = 0.625 0.05 0.3333333 0.1 0.9
    np.testing.assert_allclose(benjamini_hochberg([0.5, 0.01, 0.2, 0.04, 0.9]),
                               [0.625, 0.05, 1 / 3, 0.1, 0.9], rtol=1e-14)
