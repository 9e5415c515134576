"""4PL and 5PL standard curves against base R's nls() (tests/elisa/r/make_reference.R).

The plate is tests/data/elisa/igg_plate_wells.csv (simulated; tests/elisa/r/make_data.py).
Tolerances: parameters, their standard errors, sigma and the read-back concentrations
agree to 1e-6 relative (R stops at a convergence criterion of 1e-7, which puts its
parameters within about 1e-7 of the optimum); R² to 1e-9 absolute.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nocilab.elisa import analyse_plate, fit_curve

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "elisa" / "igg_plate_wells.csv"
REF = HERE / "r"
RTOL = 1e-6
CASES = [(m, w) for m in ("4pl", "5pl") for w in ("none", "1/y", "1/y^2")]


def wells() -> pd.DataFrame:
    d = pd.read_csv(DATA, dtype={"sample": str}, keep_default_na=False, na_values=[""])
    d["sample"] = d["sample"].fillna("")
    d["saturated"] = False
    return d


def ref(name: str, model: str, weights: str) -> pd.DataFrame:
    r = pd.read_csv(REF / f"reference_{name}.csv", keep_default_na=False, na_values=[""])
    return r[(r["model"] == model) & (r["weights"] == weights)].reset_index(drop=True)


@pytest.fixture(scope="module")
def plate() -> pd.DataFrame:
    return wells()


@pytest.mark.parametrize(("model", "weights"), CASES)
def test_parameters_and_standard_errors_match_nls(plate, model, weights):
    blank = plate.loc[plate["kind"] == "blank", "od"].mean()
    std = plate[plate["kind"] == "standard"]
    fit = fit_curve(std["concentration"], std["od"] - blank, model=model, weights=weights)
    r = ref("parameters", model, weights)
    assert [p.name for p in fit.parameters] == list(r["parameter"])
    np.testing.assert_allclose(fit.theta, r["estimate"], rtol=RTOL, err_msg="estimates")
    np.testing.assert_allclose([p.se for p in fit.parameters], r["se"], rtol=RTOL, err_msg="SEs")
    f = ref("fit", model, weights).iloc[0]
    assert fit.df_residual == f["df"] and fit.n_points == f["n"]
    np.testing.assert_allclose(fit.sigma, f["sigma"], rtol=RTOL)
    np.testing.assert_allclose(fit.r_squared, f["r_squared"], rtol=0, atol=1e-9)


@pytest.mark.parametrize(("model", "weights"), CASES)
def test_plate_read_back_matches_r(plate, model, weights):
    result = analyse_plate(plate, model=model, weights=weights)
    f = ref("fit", model, weights).iloc[0]
    assert result.blank_od == pytest.approx(f["blank_od"], rel=1e-15)

    rs = ref("standards", model, weights)
    s = result.standards
    np.testing.assert_allclose(s["concentration"], rs["concentration"], rtol=0)
    np.testing.assert_allclose(s["od_mean"], rs["od_mean"], rtol=1e-12)
    np.testing.assert_allclose(s["back_calculated"], rs["back_calculated"], rtol=RTOL)
    np.testing.assert_allclose(s["recovery_percent"], rs["recovery_percent"], rtol=RTOL)

    rm = ref("samples", model, weights).set_index("sample")
    m = result.samples.set_index("sample").loc[rm.index]
    assert list(m["censored"]) == list(rm["censored"])
    np.testing.assert_allclose(m["dilution"], rm["dilution"], rtol=0)
    np.testing.assert_allclose(m["od_mean"], rm["od_mean"], rtol=1e-12)
    # quantified: the concentration; censored: NaN, with R's bound
    np.testing.assert_allclose(m["concentration"], rm["concentration"], rtol=RTOL,
                               equal_nan=True, err_msg="concentrations")
    np.testing.assert_allclose(m["bound"], rm["bound"], rtol=1e-12, equal_nan=True)
    cens = rm["censored"] != "none"
    np.testing.assert_allclose(m.loc[cens, "extrapolated"], rm.loc[cens, "extrapolated"],
                               rtol=RTOL, equal_nan=True, err_msg="extrapolated")
    # the plate holds samples on both sides of the range and inside it
    assert set(rm["censored"]) == {"none", "left", "right"}
