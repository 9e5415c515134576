"""The within-between mixed model against lme4 + lmerTest
(tests/lab/r/exposure_response.R on tests/lab/r/exposure_response_data.csv).

Tolerance: 1e-6 relative in the fixed effects, their SEs, Satterthwaite df, t and p
(both sides optimise the REML criterion to about 1e-8; lme4 with bobyqa at rhoend 1e-12),
1e-5 in the variance components."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nocilab.errors import AnalysisError
from nocilab.lab import within_between_model

HERE = Path(__file__).resolve().parent / "r"
RTOL = 1e-6


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(HERE / "exposure_response_data.csv")


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(HERE / "reference_exposure_response.csv")


@pytest.mark.parametrize(("case", "donor", "terms"), [
    ("nested", "donor", ("animal", "donor")),
    ("animal", None, ("animal",)),
])
def test_fixed_effects_match_lmertest(data, ref, case, donor, terms):
    fit = within_between_model(data, value="change", exposure="log10_igg", animal="animal",
                               donor=donor)
    assert fit.random_terms == terms
    assert fit.n_obs == len(data) == 58
    assert fit.n_animals == 12
    r = ref[ref["case"] == case].set_index("term")
    got = fit.table.set_index("term")
    assert list(got.index) == ["intercept", "within", "between"]
    for col in ("estimate", "se", "df", "t", "p"):
        np.testing.assert_allclose(got[col], r.loc[got.index, col], rtol=RTOL, err_msg=col)
    np.testing.assert_allclose(fit.variances["animal"], r.loc["var_animal", "estimate"],
                               rtol=1e-5)
    np.testing.assert_allclose(fit.variances["residual"], r.loc["var_residual", "estimate"],
                               rtol=1e-5)
    if donor:
        np.testing.assert_allclose(fit.variances["donor"], r.loc["var_donor", "estimate"],
                                   rtol=1e-5)
    # the interval is the t interval with the Satterthwaite df
    w = got.loc["within"]
    from scipy import stats
    q = stats.t.ppf(0.975, w["df"])
    assert w["ci_low"] == pytest.approx(w["estimate"] - q * w["se"], rel=1e-12)


def test_within_and_between_are_computed_as_in_the_data_set(data):
    # the committed within/between columns (make_exposure_data.py) are the model's
    between = data.groupby("animal")["log10_igg"].transform("mean")
    np.testing.assert_allclose(data["between"], between, rtol=1e-12)
    np.testing.assert_allclose(data["within"], data["log10_igg"] - between, atol=1e-12)


def test_the_within_slope_does_not_move_with_a_level_shift_of_one_animal(data):
    # shifting one animal's serum levels changes its mean, not its within-animal part
    base = within_between_model(data, donor="donor", exposure="log10_igg", value="change")
    shifted = data.assign(log10_igg=np.where(data["animal"] == "M00", data["log10_igg"] + 1,
                                             data["log10_igg"]))
    fit = within_between_model(shifted, donor="donor", exposure="log10_igg", value="change")
    w0 = base.table.set_index("term").loc["within", "estimate"]
    w1 = fit.table.set_index("term").loc["within", "estimate"]
    assert w1 == pytest.approx(w0, rel=1e-6)


def test_refuses_what_it_cannot_estimate(data):
    one_day = data.groupby("animal").head(1)
    with pytest.raises(AnalysisError, match="no animal has two days"):
        within_between_model(one_day, donor="donor")
    with pytest.raises(AnalysisError, match="at least 3"):
        within_between_model(data[data["animal"].isin(["M00", "M01"])], donor="donor")
