"""fit_curves (all curves at once) against fit_curve (one at a time) on simulated curves.

fit_curve is checked against R's nls in test_elisa_against_r.py; here every curve fitted
together must give what fit_curve gives alone. Tolerances: each parameter within 1e-6 of
the larger of its value and its standard error (both solvers stop where the residual sum
of squares no longer changes beyond rounding, which leaves the parameters uncertain by
about 1e-8 of their standard errors; a plain relative tolerance is meaningless for a
parameter near zero such as a blank-subtracted ``r0``), standard errors and sigma to 1e-6
relative, R² to 1e-9 absolute; failures with fit_curve's reason, word for word.

fit_curve can end a 4PL at its mirror image (``scal < 0`` with ``r0`` and ``rinf``
swapped: the same curve, but ``r0`` is then not the response at zero concentration);
fit_curves always reports the documented orientation, so such a fit is compared swapped.
"""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import nocilab.elisa as elisa
from nocilab.elisa import FIT_COLUMNS, CurveFitError, fit_curve, fit_curves
from nocilab.elisa import _batch
from nocilab.elisa._batch import SINGULAR
from nocilab.errors import SchemaError

CONC = np.repeat(1000 / 2.0 ** np.arange(8), 2)  # 8 standards x 2 replicates
WEIGHTS = ("none", "1/y", "1/y^2")


def simulate(n: int, *, seed: int, model: str) -> pd.DataFrame:
    """``n`` curves on two plates: rising and falling, 0.5-10% CV plus an OD floor of
    noise, and a few that fit_curve refuses (out of order, too few standards, flat,
    responses <= 0, a missing well)."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        r0, rinf = rng.uniform(0.02, 0.2), rng.uniform(1.5, 3.5)
        if rng.random() < 0.3:
            r0, rinf = rinf, r0
        ec50, hill = np.exp(rng.uniform(np.log(20), np.log(300))), rng.uniform(0.7, 1.6)
        g = rng.uniform(0.5, 2.0) if model == "5pl" else 1.0
        cv = rng.choice([0.005, 0.02, 0.05, 0.1] if model == "4pl" else [0.002, 0.01, 0.02])
        mean = r0 + (rinf - r0) / (1 + (ec50 / CONC) ** hill) ** g
        od = mean * (1 + cv * rng.standard_normal(16)) + 0.005 * rng.standard_normal(16)
        conc = CONC.copy()
        kind = i % 25
        if kind == 1:
            od = rng.permutation(od)  # out of order
        elif kind == 2:
            conc, od = conc[:8], od[:8]  # 4 standards
        elif kind == 3:
            od = np.full(16, 0.8)  # flat
        elif kind == 4:
            od[3] = -0.01  # below the blank: no weighting possible
        elif kind == 5:
            od[5] = np.nan  # a saturated well, left out
        frames.append(pd.DataFrame({"plate": f"P{i % 2}", "analyte": f"A{i:03d}",
                                    "concentration": conc, "od": od}))
    return pd.concat(frames, ignore_index=True)


def single(x, y, model: str, weights: str):
    """fit_curve's answer as (theta, se, sigma, r2), or its reason for failing."""
    try:
        with np.errstate(all="ignore"):
            fit = fit_curve(x, y, model=model, weights=weights)
    except CurveFitError as exc:
        return str(exc)
    except np.linalg.LinAlgError:  # fit_curve's covariance of a singular fit
        return SINGULAR.format(model.upper())
    theta, se = fit.theta, np.array([p.se for p in fit.parameters])
    if model == "4pl" and theta[3] < 0:
        theta, se = theta[[1, 0, 2, 3]] * [1, 1, 1, -1], se[[1, 0, 2, 3]]
    return theta, se, fit.sigma, fit.r_squared


def compare(table: pd.DataFrame, batch: pd.DataFrame, model: str, weights: str) -> int:
    """Assert every curve agrees; return how many curves fit_curve fitted."""
    names = list(elisa.PARAMETERS[model])
    fitted = 0
    for (plate, analyte), g in table.groupby(["plate", "analyte"]):
        row = batch[(batch["plate"] == plate) & (batch["analyte"] == analyte)]
        assert len(row) == 1
        row = row.iloc[0]
        ref = single(g["concentration"], g["od"], model, weights)
        if isinstance(ref, str):
            assert not row["converged"] and row["reason"] == ref, analyte
            assert row["refitted"] and np.isnan(row["r0"]), analyte
            continue
        fitted += 1
        theta, se, sigma, r2 = ref
        assert row["converged"] and row["reason"] == "", analyte
        est = row[names].to_numpy(float)
        est_se = row[[f"{n}_se" for n in names]].to_numpy(float)
        assert np.all(np.abs(est - theta) <= 1e-6 * np.maximum(np.abs(theta), se)), \
            (analyte, est, theta)
        np.testing.assert_allclose(est_se, se, rtol=1e-6, err_msg=analyte)
        np.testing.assert_allclose(row["sigma"], sigma, rtol=1e-6, err_msg=analyte)
        assert abs(row["r_squared"] - r2) <= 1e-9, analyte
        assert row["df_residual"] == row["n_points"] - len(names)
        assert row["g"] == 1.0 if model == "4pl" else row["g"] == row["g"]
    return fitted


@pytest.mark.parametrize("weights", WEIGHTS)
def test_4pl_batch_gives_fit_curves_parameters(weights):
    table = simulate(100, seed=11, model="4pl")
    batch = fit_curves(table, by=["plate", "analyte"], model="4pl", weights=weights)
    assert tuple(batch.columns) == ("plate", "analyte", *FIT_COLUMNS)
    assert len(batch) == 100
    fitted = compare(table, batch, "4pl", weights)
    assert fitted >= 70
    # the vectorised pass, not fit_curve, fitted nearly all of them
    assert (batch["converged"] & batch["refitted"]).sum() <= 0.1 * fitted
    assert (batch.loc[batch["converged"], "scal"] > 0).all()


@pytest.mark.parametrize("weights", WEIGHTS)
def test_5pl_batch_gives_fit_curves_parameters(weights):
    table = simulate(40, seed=12, model="5pl")
    batch = fit_curves(table, by=["plate", "analyte"], model="5pl", weights=weights)
    fitted = compare(table, batch, "5pl", weights)
    assert fitted >= 25
    assert (batch["converged"] & batch["refitted"]).sum() <= 0.2 * fitted


def test_curves_left_to_fit_curve_get_its_answer():
    """With one iteration nothing settles in the vectorised pass: every curve is
    refitted one by one and the results are fit_curve's."""
    table = simulate(30, seed=13, model="4pl")
    batch = fit_curves(table, by=["plate", "analyte"], max_iterations=1)
    assert batch["refitted"].all()
    compare(table, batch, "4pl", "none")


def test_failure_reasons_are_fit_curves():
    table = simulate(26, seed=14, model="4pl")
    below = 0.05 + 3.0 / (1 + (120 / CONC) ** 1.2) - 0.17  # the lowest standard < 0
    table.loc[table["analyte"] == "A004", "od"] = below
    batch = fit_curves(table, by=["plate", "analyte"], weights="1/y").set_index("analyte")
    assert "out of order" in batch.loc["A001", "reason"]
    assert batch.loc["A002", "reason"] == ("a 4PL curve needs at least 5 standard "
                                           "concentrations; found 4")
    assert "same response" in batch.loc["A003", "reason"]
    assert batch.loc["A004", "reason"].startswith("weighting 1/y needs every standard response")
    assert batch.loc["A005", "converged"] and batch.loc["A005", "n_points"] == 15


def test_keys_sorted_and_curves_without_usable_wells():
    conc = CONC
    od = 0.05 + 3.0 / (1 + (120 / conc) ** 1.2)
    t = pd.DataFrame({"plate": ["B"] * 16 + ["A"] * 16 + ["C"] * 16,
                      "concentration": np.tile(conc, 3),
                      "od": np.r_[od, od * 1.1, np.full(16, np.nan)]})
    f = fit_curves(t, by="plate")
    assert list(f["plate"]) == ["A", "B", "C"]
    assert list(f["converged"]) == [True, True, False]
    np.testing.assert_allclose(f.loc[1, ["r0", "rinf"]].to_numpy(float), [0.05, 3.05],
                               rtol=1e-9)
    np.testing.assert_allclose(np.exp(f.loc[1, "xmid"]), 120.0, rtol=1e-9)
    assert f.loc[2, "reason"] == ("a 4PL curve needs at least 5 standard concentrations; "
                                  "found 0")
    assert f.loc[2, "n_points"] == 0


def test_empty_table_gives_empty_frame():
    t = pd.DataFrame({"plate": [], "concentration": [], "od": []})
    f = fit_curves(t, by="plate")
    assert len(f) == 0 and tuple(f.columns) == ("plate", *FIT_COLUMNS)


def test_bad_tables_are_refused_with_the_column_named():
    t = pd.DataFrame({"plate": ["P"] * 3, "concentration": [1.0, 2.0, 4.0],
                      "od": ["0.1", "OVRFLW", "0.3"]})
    with pytest.raises(SchemaError, match=r"column od, row 2: 'OVRFLW' is not a number"):
        fit_curves(t, by="plate")
    with pytest.raises(SchemaError, match="lacks column.s. analyte"):
        fit_curves(t, by=["plate", "analyte"])
    with pytest.raises(CurveFitError, match="expected one of 4pl, 5pl"):
        fit_curves(t, by="plate", model="3pl")
    with pytest.raises(CurveFitError, match="expected one of none, 1/y, 1/y"):
        fit_curves(t, by="plate", weights="1/x")


def test_public_names():
    assert {"fit_curves", "FIT_COLUMNS"} <= set(elisa.__all__)


def test_worker_processes_give_the_same_frame():
    table = simulate(30, seed=15, model="4pl")
    one = fit_curves(table, by=["plate", "analyte"], max_iterations=1)
    two = fit_curves(table, by=["plate", "analyte"], max_iterations=1, workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_docstring_example_runs():
    failed, tried = doctest.testmod(_batch, raise_on_error=False)
    assert tried > 0 and failed == 0
