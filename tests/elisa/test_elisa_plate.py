"""The plate calculator on hand-made plates: QC, LLOQ/ULOQ, censoring, refusals."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nocilab.elisa
from nocilab.elisa import (
    CurveFitError,
    analyse_plate,
    fit_curve,
    replicate_cv,
    subtract_blank,
)
from nocilab.elisa import _fit, _logistic, _plate
from nocilab.errors import AssayError

LEVELS = 1000 / 2.0 ** np.arange(8)  # 1000 ... 7.8125
THETA4 = np.array([0.02, 3.0, np.log(120.0), 0.8])  # r0, rinf, xmid, scal


def od4(conc, theta=THETA4):
    return _logistic.response(theta, np.log(np.asarray(conc, dtype=float)))


def plate(samples: dict[str, tuple[float, list[float]]], *, std_od=None, blank=(0.05, 0.05),
          saturated: tuple[str, ...] = ()) -> pd.DataFrame:
    """A wells table: standards in columns 1-2 (exact 4PL ODs + blank unless given),
    blanks in column 3, samples from column 4 on."""
    rows = []
    rows_letters = "ABCDEFGH"
    std_od = od4(LEVELS) + np.mean(blank) if std_od is None else np.asarray(std_od)
    for i, c in enumerate(LEVELS):
        for col in (1, 2):
            rows.append(dict(well=f"{rows_letters[i]}{col}", kind="standard", sample="",
                             dilution=np.nan, concentration=c, od=std_od[i]))
    for i, b in enumerate(blank):
        rows.append(dict(well=f"{rows_letters[i]}3", kind="blank", sample="", dilution=np.nan,
                         concentration=np.nan, od=b))
    col = 4
    for name, (dil, ods) in samples.items():
        for j, v in enumerate(ods):
            rows.append(dict(well=f"A{col + j}", kind="sample", sample=name, dilution=dil,
                             concentration=np.nan, od=v))
        col += len(ods)
    frame = pd.DataFrame(rows)
    frame["saturated"] = frame["well"].isin(saturated)
    frame.loc[frame["saturated"], "od"] = np.nan
    return frame


def test_docstring_examples_run():
    for mod in (nocilab.elisa, _fit, _plate, _logistic):
        failed, _ = doctest.testmod(mod, raise_on_error=False)
        assert failed == 0, mod.__name__


def test_replicate_cv_by_hand():
    # mean 1.1, SD sqrt(0.02) = 0.141421...; CV = 12.8565%
    assert replicate_cv([1.0, 1.2]) == pytest.approx(100 * np.sqrt(0.02) / 1.1, rel=1e-12)
    assert replicate_cv([0.5, 0.5, 0.5]) == 0.0
    assert np.isnan(replicate_cv([0.7]))


def test_exact_curve_recovers_every_standard_and_reads_samples_back():
    p = plate({"S1": (100.0, list(od4([50.0, 50.0]) + 0.05)),
               "S2": (10.0, list(od4([300.0, 300.0]) + 0.05))})
    r = analyse_plate(p, model="4pl")
    assert r.blank_od == pytest.approx(0.05)
    np.testing.assert_allclose(r.curve.theta, THETA4, rtol=1e-9)
    np.testing.assert_allclose(r.standards["recovery_percent"], 100.0, rtol=1e-9)
    assert r.standards["recovery_ok"].all() and r.standards["cv_ok"].all()
    assert (r.lloq, r.uloq) == (LEVELS.min(), LEVELS.max())
    s = r.samples.set_index("sample")
    assert s.loc["S1", "well_concentration"] == pytest.approx(50.0, rel=1e-9)
    assert s.loc["S1", "concentration"] == pytest.approx(5000.0, rel=1e-9)
    assert s.loc["S2", "concentration"] == pytest.approx(3000.0, rel=1e-9)
    assert set(s["censored"]) == {"none"} and s["bound"].isna().all()
    assert r.curve.r_squared == pytest.approx(1.0, abs=1e-12)
    assert r.curve.ec50()[0] == pytest.approx(120.0, rel=1e-9)
    assert r.curve.hill()[0] == pytest.approx(1 / 0.8, rel=1e-9)


def test_samples_outside_the_range_are_censored_with_their_bound_never_clamped():
    top, bottom = od4(LEVELS.max()), od4(LEVELS.min())
    p = plate({
        "high": (20.0, [0.05 + od4(2000.0)] * 2),                # above 1000, below rinf
        "low": (20.0, [0.05 + od4(3.0)] * 2),                    # below 7.8125
        "under": (20.0, [0.05 + 0.01, 0.05 + 0.01]),             # below r0 = 0.02
        "sat": (20.0, [0.05 + (top + bottom) / 2, np.nan]),      # one saturated well
    }, saturated=("A11",))
    r = analyse_plate(p)
    s = r.samples.set_index("sample")
    assert s.loc["high", "censored"] == "right" and s.loc["high", "bound"] == 20 * 1000.0
    assert np.isnan(s.loc["high", "concentration"])
    assert s.loc["high", "extrapolated"] == pytest.approx(20 * 2000.0, rel=1e-8)
    assert "above the ULOQ" in s.loc["high", "note"]
    assert s.loc["low", "censored"] == "left" and s.loc["low", "bound"] == 20 * 7.8125
    assert s.loc["low", "extrapolated"] == pytest.approx(60.0, rel=1e-8)
    assert s.loc["under", "censored"] == "left" and np.isnan(s.loc["under", "extrapolated"])
    assert "asymptote" in s.loc["under", "note"]
    assert s.loc["sat", "censored"] == "right" and "A11 saturated" in s.loc["sat", "note"]
    summ = r.summary()
    assert (summ["n_below_lloq"], summ["n_above_uloq"], summ["n_quantified"]) == (2, 2, 0)


def test_lloq_and_uloq_move_in_when_the_end_standards_do_not_recover():
    std_od = od4(LEVELS) + 0.05
    std_od[-1] = 0.05 + od4(LEVELS[-1]) * 1.6  # lowest standard reads far too high
    r = analyse_plate(plate({"x": (1.0, [0.05 + od4(9.0)] * 2)}, std_od=std_od))
    low = r.standards.iloc[0]
    assert low["concentration"] == 7.8125 and not low["recovery_ok"]
    assert "outside 80-120%" in low["note"] and not low["in_range"]
    assert r.lloq == 15.625 and r.uloq == 1000.0
    # a sample read at 9 ng/mL is now below the LLOQ
    assert r.samples.iloc[0]["censored"] == "left"
    assert r.samples.iloc[0]["bound"] == 15.625


def test_saturated_standard_is_left_out_of_the_fit():
    p = plate({}, saturated=("A1",))
    r = analyse_plate(p)
    assert r.excluded_wells == ("A1",)
    assert r.curve.n_points == 15
    assert r.standards.iloc[-1]["n_wells"] == 1


def test_replicate_cv_above_the_limit_is_flagged_not_dropped():
    p = plate({"noisy": (1.0, [0.05 + 1.0, 0.05 + 1.6])})
    r = analyse_plate(p, cv_limit=20)
    s = r.samples.iloc[0]
    assert s["od_cv_percent"] == pytest.approx(replicate_cv([1.0, 1.6]))
    assert not s["cv_ok"] and "above 20%" in s["note"]
    assert s["censored"] == "none" and np.isfinite(s["concentration"])
    assert analyse_plate(p, cv_limit=40).samples.iloc[0]["cv_ok"]


def test_decreasing_curve_of_a_competitive_elisa():
    theta = np.array([2.5, 0.1, np.log(40.0), 0.9])
    std = _logistic.response(theta, np.log(LEVELS))
    fit = fit_curve(np.repeat(LEVELS, 2), np.repeat(std, 2))
    assert not fit.increasing
    np.testing.assert_allclose(fit.theta, theta, rtol=1e-8)
    r = analyse_plate(plate({"a": (2.0, [0.05 + _logistic.response(theta, np.log([3.0]))[0]] * 2)},
                            std_od=std + 0.05))
    s = r.samples.iloc[0]
    assert s["censored"] == "left" and s["bound"] == 2 * 7.8125


def test_a_4pl_written_with_negative_scal_is_the_same_curve_with_the_same_ends():
    """(r0, rinf, xmid, scal) and (rinf, r0, xmid, -scal) are one 4PL; a fit may settle
    on either. Which end a response lies beyond (and so left or right censoring) and
    whether the curve rises must not depend on the naming."""
    import dataclasses

    mirrored = THETA4[[1, 0, 2, 3]] * np.array([1, 1, 1, -1])
    lx = np.log(LEVELS)
    np.testing.assert_allclose(_logistic.response(mirrored, lx), _logistic.response(THETA4, lx),
                               rtol=1e-12)
    ods = np.array([0.0, 1.0, 3.5])  # below the low asymptote, on the curve, above the high
    np.testing.assert_array_equal(_logistic.side(THETA4, ods), [-1, 0, 1])
    np.testing.assert_array_equal(_logistic.side(mirrored, ods), [-1, 0, 1])
    np.testing.assert_allclose(_logistic.inverse(mirrored, ods[1:2]),
                               _logistic.inverse(THETA4, ods[1:2]), rtol=1e-12)
    fit = fit_curve(np.repeat(LEVELS, 2), np.repeat(od4(LEVELS), 2))
    assert fit.increasing
    names = ("r0", "rinf", "xmid", "scal")
    swapped = dataclasses.replace(fit, parameters=tuple(
        _fit.Parameter(n, float(v), 0.0) for n, v in zip(names, mirrored, strict=True)))
    assert swapped.increasing


def test_a_singular_covariance_is_a_curve_failure_not_a_linear_algebra_error(monkeypatch):
    def singular(a):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(_fit.np.linalg, "inv", singular)
    with pytest.raises(_fit.CurveFitError, match="covariance matrix is singular"):
        fit_curve(np.repeat(LEVELS, 2), np.repeat(od4(LEVELS), 2))


def test_5pl_recovers_an_asymmetric_curve():
    theta = np.array([0.03, 3.2, np.log(200.0), 0.6, 0.45])
    od = _logistic.response(theta, np.log(LEVELS))
    fit = fit_curve(np.repeat(LEVELS, 2), np.repeat(od, 2), model="5pl")
    np.testing.assert_allclose(fit.theta, theta, rtol=1e-7)
    value, _ = fit.ec50()
    half = (theta[0] + theta[1]) / 2
    assert fit.predict(value)[0] == pytest.approx(half, rel=1e-10)


@given(r0=st.floats(-0.1, 0.3), span=st.floats(0.5, 4.0), xmid=st.floats(1.0, 7.0),
       scal=st.floats(0.3, 2.0), g=st.floats(0.3, 3.0), frac=st.floats(0.01, 0.99))
def test_back_calculation_inverts_the_curve(r0, span, xmid, scal, g, frac):
    for theta in (np.array([r0, r0 + span, xmid, scal]), np.array([r0, r0 + span, xmid, scal, g])):
        od = r0 + frac * span
        x = _logistic.inverse(theta, np.array([od]))
        assert np.isfinite(x[0]) and x[0] > 0
        assert _logistic.response(theta, np.log(x))[0] == pytest.approx(od, rel=1e-9, abs=1e-12)


def test_analytic_derivatives_agree_with_finite_differences():
    lx = np.log(LEVELS)
    for theta in (THETA4, np.array([0.03, 3.2, np.log(200.0), 0.6, 0.45])):
        jac = _logistic.jacobian(theta, lx)
        for k in range(len(theta)):
            h = 1e-6 * max(1.0, abs(theta[k]))
            up, dn = theta.copy(), theta.copy()
            up[k] += h
            dn[k] -= h
            fd = (_logistic.response(up, lx) - _logistic.response(dn, lx)) / (2 * h)
            np.testing.assert_allclose(jac[:, k], fd, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------------------- refusals

def test_too_few_standards():
    with pytest.raises(CurveFitError, match="at least 5 standard concentrations; found 4"):
        fit_curve(np.repeat(LEVELS[:4], 2), np.repeat(od4(LEVELS[:4]), 2))
    with pytest.raises(CurveFitError, match="at least 6"):
        fit_curve(LEVELS[:5], od4(LEVELS[:5]), model="5pl")


def test_standards_out_of_order_are_refused_with_the_levels_named():
    od = od4(LEVELS)
    od[[2, 3]] = od[[3, 2]]  # 250 and 125 swapped
    with pytest.raises(CurveFitError, match=r"standards out of order: 250 reads .* below 125"):
        fit_curve(LEVELS, od)


def test_noise_on_the_plateau_is_not_out_of_order():
    od = od4(LEVELS)
    od[0] = od[1] - 0.02  # 1000 reads a little below 500 (2% of the span is within 5%)
    fit_curve(LEVELS, od)


def test_flat_standards_are_refused():
    with pytest.raises(CurveFitError, match="same response"):
        fit_curve(LEVELS, np.full(8, 0.5))


def test_weighting_needs_positive_responses():
    od = od4(LEVELS) - od4(LEVELS.min())  # the lowest standard at 0 after the blank
    with pytest.raises(CurveFitError, match=r"weighting 1/y\^2 needs every standard response > 0"):
        fit_curve(LEVELS, od, weights="1/y^2")


def test_unknown_options_are_named():
    with pytest.raises(CurveFitError, match="expected one of 4pl, 5pl"):
        fit_curve(LEVELS, od4(LEVELS), model="3pl")
    with pytest.raises(CurveFitError, match="expected one of none, 1/y, 1/y"):
        fit_curve(LEVELS, od4(LEVELS), weights="1/x")
    with pytest.raises(AssayError, match="expected one of mean, none"):
        subtract_blank(plate({}), blank="median")
    with pytest.raises(AssayError, match="around 100%"):
        analyse_plate(plate({}), recovery_limits=(120, 80))


def test_blank_subtraction_needs_blanks_unless_switched_off():
    p = plate({"s": (1.0, [1.0, 1.0])})
    p = p[p["kind"] != "blank"]
    with pytest.raises(AssayError, match="needs blank wells"):
        analyse_plate(p)
    r = analyse_plate(p, blank="none")
    assert r.blank_od is None and r.standards["recovery_ok"].all()


def test_saturated_blank_is_refused():
    with pytest.raises(AssayError, match="blank well.* A3 saturated"):
        analyse_plate(plate({}, saturated=("A3",)))


def test_no_standard_recovering_is_a_curve_failure():
    # the committed plate's standards recover at 90-104%: none within 99.9-100.1%
    from test_elisa_against_r import wells

    with pytest.raises(CurveFitError, match="no standard recovers within 99.9-100.1%"):
        analyse_plate(wells(), recovery_limits=(99.9, 100.1))
