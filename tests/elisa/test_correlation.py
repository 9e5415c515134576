"""Donor-level Spearman correlations against R's cor.test(method = "spearman").

tests/elisa/r/correlation.R on tests/data/elisa/donor_correlations.csv covers the three
ways R computes p: exact enumeration (n = 8, no ties), the AS 89 Edgeworth series
(n = 14, no ties) and the asymptotic t (ties). rho, S, p, the Fisher-z interval and the
Holm-adjusted p agree to 1e-10 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nocilab.elisa import donor_scatter
from nocilab.errors import AnalysisError
from nocilab.stats.correlation import (
    CORRELATION_COLUMNS,
    clinical_table,
    donor_correlations,
    spearman,
)

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "elisa" / "donor_correlations.csv"
REF = HERE / "r" / "reference_correlation.csv"


@pytest.fixture(scope="module")
def donors() -> pd.DataFrame:
    return pd.read_csv(DATA)


def _run(donors, **kw):
    return donor_correlations(donors[["donor", "binding_score", "effect_g"]],
                              donors[["donor", "pain_intensity", "fiq_total", "age_years"]],
                              **kw)


def test_matches_cor_test(donors):
    ref = pd.read_csv(REF)
    t = _run(donors).table
    assert tuple(t.columns) == CORRELATION_COLUMNS
    assert list(zip(t["outcome"], t["field"], strict=True)) == \
        list(zip(ref["outcome"], ref["field"], strict=True))
    assert (t["n"].to_numpy() == ref["n"].to_numpy()).all()
    assert (t["ties"].to_numpy() == ref["ties"].to_numpy()).all()
    for col, rcol in (("rho", "rho"), ("s_statistic", "s_statistic"), ("p", "p"),
                      ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("p_adj", "p_holm")):
        np.testing.assert_allclose(t[col], ref[rcol], rtol=1e-10, err_msg=col)
    assert set(t["p_method"]) == {"exact (all permutations)", "AS 89 Edgeworth series",
                                  "asymptotic t (ties)"}


def test_small_exact_case():
    # R: cor.test(1:5, c(2, 1, 4, 3, 5), method = "spearman"): rho 0.8, S 4, p 0.1333333
    # by hand: of the 120 permutations of 5 ranks, S <= 4 for 8 (the identity, S = 0; the
    # 4 swaps of neighbours, S = 2; the 3 pairs of disjoint neighbour swaps, S = 4), so
    # P(S <= 4) = 8/120 and the two-sided p = 2 * 8/120 = 0.1333
    r = spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
    assert r.rho == pytest.approx(0.8) and r.s_statistic == pytest.approx(4.0)
    assert r.p == pytest.approx(0.13333333333333333, rel=1e-12)
    assert r.p_method == "exact (all permutations)"


def test_perfect_and_degenerate_cases():
    r = spearman([1, 2, 3, 4], [10, 20, 30, 40])
    assert r.rho == pytest.approx(1.0) and np.isnan(r.ci_low)
    with pytest.raises(AnalysisError, match="at least 3 complete pairs"):
        spearman([1, 2, np.nan], [1, 2, 3])
    with pytest.raises(AnalysisError, match="does not vary"):
        spearman([1, 1, 1, 1], [1, 2, 3, 4])


def test_labels_name_the_points_and_nothing_else(donors):
    codes = {d: f"D-{i:02d}" for i, d in enumerate(donors["donor"], start=1)}
    res = _run(donors, labels=codes)
    assert set(res.pairs["label"]) <= set(codes.values())
    assert not any(d in " ".join(map(str, res.pairs.to_numpy().ravel())) for d in codes)
    assert "donor" not in res.table.columns and "donor" not in res.pairs.columns
    pair = res.pairs[(res.pairs["outcome"] == "binding_score") &
                     (res.pairs["field"] == "fiq_total")]
    fig = donor_scatter(pair["x"], pair["y"], labels=pair["label"], xlabel="FIQ total",
                        ylabel="binding score")
    ax = fig.axes[0]
    assert {t.get_text() for t in ax.texts} == set(pair["label"])
    assert all(ln.get_gid().startswith("donor_D-") for ln in ax.lines if ln.get_gid())
    assert "Holm" in res.methods()


def test_a_pair_that_cannot_be_computed_says_why(donors):
    vals = donors[["donor", "effect_g"]].assign(effect_g=np.nan)
    vals.loc[:1, "effect_g"] = [1.0, 2.0]
    res = donor_correlations(vals, donors[["donor", "fiq_total"]])
    row = res.table.iloc[0]
    assert np.isnan(row["p"]) and "at least 3 complete pairs" in row["note"]


def test_clinical_table_from_study_donors():
    from nocilab.model import Donor

    ds = [Donor(id="F1", arm="patient", clinical={"pain_intensity": 7, "fiq_total": 68.5,
                                                   "diagnosis_note": "FM"}),
          Donor(id="F2", arm="patient", clinical={"pain_intensity": 5, "fiq_total": 40.0})]
    table, skipped = clinical_table(ds)
    assert list(table.columns) == ["donor", "pain_intensity", "fiq_total"]
    assert table["pain_intensity"].tolist() == [7.0, 5.0]
    assert "diagnosis_note" in skipped


def test_bad_input_is_named(donors):
    with pytest.raises(AnalysisError, match="no column\\(s\\) vas"):
        donor_correlations(donors[["donor", "effect_g"]], donors[["donor", "fiq_total"]],
                           fields=["vas"])
    dup = pd.concat([donors.head(2), donors.head(1)])
    with pytest.raises(AnalysisError, match="more than once: F01"):
        donor_correlations(dup[["donor", "effect_g"]], donors[["donor", "fiq_total"]])
