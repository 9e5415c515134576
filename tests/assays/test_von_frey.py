"""von Frey calculators against Dixon's published table, hand-worked cases and invariants.

References: Dixon's k table as shipped in the lab calculator VF_Calculator_Up-down.xlsx
(sheet values_analysis, columns A:B, 248 patterns; github.com/raqueladaia/vf_updown_analysis,
MIT, Sandoval Ortega 2026) and the values quoted in DOMAIN.md; SUDO cases worked by hand
from Bonin et al. 2014 (Mol Pain 10:26).
"""

from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from scipy.stats import norm

from nocilab.assays import derive_readings, get_assay
from nocilab.assays.base import DERIVED_VALUES
from nocilab.assays.von_frey import (
    ASSAY,
    BUILTIN_SETS,
    FilamentSet,
    check,
    derive,
    dixon_k,
    load_filament_set,
    series_problems,
    sudo_thresholds,
    thresholds,
)
from nocilab.errors import AssayError
from nocilab.model.settings import VonFreySettings

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
VF_CALCULATOR = SHARED / "data" / "vonfrey_prepost" / "VF_Calculator_Up-down.xlsx"
LAB_SET = Path(__file__).resolve().parents[1] / "data" / "vonfrey_lab_filaments.csv"


def _read_calculator(**kw) -> pd.DataFrame:
    if not VF_CALCULATOR.is_file():
        pytest.skip(f"{VF_CALCULATOR} is missing (../shared is not beside the repository)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl: "Cannot parse header or footer"
        return pd.read_excel(VF_CALCULATOR, sheet_name="values_analysis", **kw)


def _ml_by_optimiser(series: str) -> float:
    """Independent check: maximise the probit likelihood numerically (scipy)."""
    level = [0]
    for c in series[:-1]:
        level.append(level[-1] + (1 if c == "O" else -1))
    lv = np.array(level) - level[-1]
    x = np.array([c == "X" for c in series])

    def nll(mu: float) -> float:
        return -(norm.logcdf(lv[x] - mu).sum() + norm.logcdf(mu - lv[~x]).sum())

    r = minimize_scalar(nll, bounds=(-30, 30), method="bounded", options={"xatol": 1e-10})
    return float(r.x)


# ---------------------------------------------------------------- Dixon's k


@pytest.mark.parametrize(
    ("series", "k"),
    [("OX", -0.500), ("OXO", 0.842), ("OOXO", 0.890), ("OXX", -0.178), ("OOXX", 0.000),
     ("OOOX", -0.378)],
)
def test_dixon_k_reference_values(series, k):
    assert round(dixon_k(series), 3) == pytest.approx(k, abs=1e-9)


def test_dixon_k_hand_worked_ox_is_minus_half():
    # O at level -1, X at 0: L = Phi(mu + 1) Phi(-mu), symmetric about mu = -1/2
    assert dixon_k("OX") == pytest.approx(-0.5, abs=1e-10)
    assert dixon_k("XO") == pytest.approx(0.5, abs=1e-10)


def test_dixon_k_reproduces_the_published_table():
    table = _read_calculator(usecols="A:B").dropna()
    assert len(table) == 248
    patterns = table.iloc[:, 0].astype(str).str.strip().tolist()
    published = table.iloc[:, 1].astype(float).to_numpy()
    ours = thresholds(patterns, ["1"] * len(patterns), filaments="mouse")["k"].to_numpy()
    mismatches = [(p, k, round(o, 3)) for p, k, o in zip(patterns, published, ours, strict=True)
                  if round(o, 3) != pytest.approx(k, abs=1e-9)]
    assert mismatches == []
    assert np.max(np.abs(ours - published)) < 0.0005


def test_dixon_k_matches_a_generic_optimiser_on_long_series():
    for s in ["OOOOOOXOXOXXOXO", "XXOXOOOXXXOXOXOXOO", "OXXXXXXXXXXO", "X" * 12 + "O"]:
        assert dixon_k(s) == pytest.approx(_ml_by_optimiser(s), abs=1e-6)


def test_dixon_k_case_and_spaces():
    assert dixon_k(" o x o ") == dixon_k("OXO")


@pytest.mark.parametrize("bad", ["", "   ", "OXA", "O-X", "XXXX", "ooo"])
def test_dixon_k_rejects(bad):
    with pytest.raises(AssayError):
        dixon_k(bad)


def test_dixon_k_without_change_says_censored():
    with pytest.raises(AssayError, match="no change of response"):
        dixon_k("XXX")


patterns = st.text(alphabet="XO", min_size=2, max_size=14).filter(
    lambda s: "X" in s and "O" in s)


@settings(max_examples=200, deadline=None)
@given(patterns)
def test_k_is_antisymmetric_under_swapping_x_and_o(s):
    swapped = s.translate(str.maketrans("XO", "OX"))
    assert dixon_k(swapped) == pytest.approx(-dixon_k(s), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(patterns)
def test_k_solves_the_likelihood_equation(s):
    k = dixon_k(s)
    assert k == pytest.approx(_ml_by_optimiser(s), abs=1e-5)
    # the estimate lies within the levels tested, widened by the series length
    assert -len(s) - 1 < k < len(s) + 1


@settings(max_examples=200, deadline=None)
@given(patterns, st.sampled_from("XO"))
def test_each_added_initial_response_changes_k_less(s, c):
    # Dixon's table: k converges as the initial run of like responses lengthens,
    # so each response added to the run moves k less than the one before
    ks = np.array([dixon_k(c * r + s) for r in range(1, 10)])
    steps = np.abs(np.diff(ks))
    assert np.all(steps[1:] <= steps[:-1] + 1e-12)


def test_a_run_of_six_is_converged_for_short_tails():
    # every tail of up to 8 responses: a seventh like response moves k by < 0.005
    # (longer tails converge more slowly: XXXXXOXXXXXXX moves by 0.011)
    tails = ["".join(p) for n in range(2, 9) for p in itertools.product("XO", repeat=n)
             if "X" in p and "O" in p]
    worst = max(abs(dixon_k(c * 7 + s) - dixon_k(c * 6 + s)) for s in tails for c in "XO")
    assert 0 < worst < 0.005


# ---------------------------------------------------------------- thresholds


def test_thresholds_hand_worked():
    # mouse set: number 5 is handle 3.22; k(OXOOXX) from Dixon's table = -0.169
    t = thresholds(["OXOOXX"], [5], filaments="mouse", delta=0.224)
    expected = 10 ** (3.22 + dixon_k("OXOOXX") * 0.224) / 1e4
    assert t.loc[0, "threshold_g"] == pytest.approx(expected, rel=1e-12)
    assert 10 ** (3.22 - 0.169 * 0.224) / 1e4 == pytest.approx(t.loc[0, "threshold_g"], rel=1e-3)
    assert t.loc[0, "censored"] == "none" and math.isnan(t.loc[0, "bound_g"])
    assert t.loc[0, "note"] == ""


def test_thresholds_lab_worked_example():
    # the lab calculator's own example: oxooxx, filament 5 (log 3.61), delta 0.441429
    # -> 50% threshold 0.343083 g
    # (the sheet uses k rounded to 3 decimals, -0.169; the exact estimate is -0.16865)
    fs = load_filament_set(LAB_SET)
    t = thresholds(["oxooxx"], [5], filaments=fs)
    assert 10 ** (3.61 + round(t.loc[0, "k"], 3) * fs.delta) / 1e4 == pytest.approx(
        0.343083, abs=5e-7)
    assert t.loc[0, "threshold_g"] == pytest.approx(0.343083, rel=1e-3)


def test_thresholds_default_delta_is_the_mean_step():
    fs = load_filament_set("rat")
    assert fs.delta == pytest.approx((5.18 - 3.61) / 7)
    a = thresholds(["OXOX"], ["4.31"], filaments=fs)
    b = thresholds(["OXOX"], ["4.31"], filaments=fs, delta=fs.delta)
    assert a.equals(b)


def test_thresholds_columns_and_index():
    s = pd.Series(["OXO", "xxx", "OOOO"], index=["m1", "m2", "m3"])
    t = thresholds(s, ["3.61", "1.65", "4.31"], filaments="mouse")
    assert list(t.columns) == ["k", "threshold_g", "censored", "bound_g", "note"]
    assert list(t.index) == ["m1", "m2", "m3"]


def test_censoring_carries_the_bound():
    t = thresholds(["XXXX", "OOO", "XX", "OO"], ["1", "10", "4", "4"], filaments="mouse")
    assert t["censored"].tolist() == ["left", "right", "left", "right"]
    assert t["k"].isna().all() and t["threshold_g"].isna().all()
    assert t["bound_g"].tolist() == pytest.approx(
        [10 ** (1.65 - 4), 10 ** (4.31 - 4), 10 ** (2.83 - 4), 10 ** (2.83 - 4)])
    assert t.loc[0, "note"].startswith("no change of response: all X")
    assert "lightest" in t.loc[0, "note"] and "not the lightest" in t.loc[2, "note"]
    assert t.loc[1, "note"].startswith("no change of response: all O")
    assert "not the heaviest" in t.loc[3, "note"]


def test_thresholds_reject_bad_rows_naming_each():
    with pytest.raises(AssayError) as err:
        thresholds(["OXO", "OXQ", "", None, "OX"], ["1", "2", "3", "4", "11"],
                   filaments="mouse")
    msg = str(err.value)
    assert "row 1, xo_series" in msg and "'Q'" in msg
    assert "row 2, xo_series" in msg and "row 3, xo_series" in msg
    assert "row 4, last_filament" in msg and "not a filament of set 'mouse'" in msg
    assert "row 0" not in msg


def test_thresholds_length_mismatch_and_scalar_input():
    with pytest.raises(AssayError, match="one per series"):
        thresholds(["OXO", "OX"], ["1"], filaments="mouse")
    with pytest.raises(AssayError, match="one value per series"):
        thresholds("OXO", "1", filaments="mouse")
    with pytest.raises(AssayError, match="delta"):
        thresholds(["OXO"], ["1"], filaments="mouse", delta=-0.2)


def test_thresholds_k_computed_once_per_pattern_agrees_with_scalar():
    rng = np.random.default_rng(3)
    pool = ["OXOX", "ooxoxox", "XOOXO", "OOOXXOXO", "XXXX", "OXXO"]
    s = rng.choice(pool, 500)
    t = thresholds(s, rng.integers(1, 11, 500), filaments="mouse")
    for p in pool:
        ks = t.loc[s == p, "k"].to_numpy()
        if p in ("XXXX",):
            assert np.isnan(ks).all()
        else:
            assert np.allclose(ks, dixon_k(p))


# ---------------------------------------------------------------- filament sets


def test_builtin_sets_from_domain():
    mouse, rat = load_filament_set("mouse"), load_filament_set("Rat")
    assert BUILTIN_SETS == ("mouse", "rat")
    assert mouse.log == (1.65, 2.36, 2.44, 2.83, 3.22, 3.61, 3.84, 4.08, 4.17, 4.31)
    assert mouse.grams == (0.008, 0.02, 0.04, 0.07, 0.16, 0.4, 0.6, 1.0, 1.4, 2.0)
    assert rat.log == (3.61, 3.84, 4.08, 4.31, 4.56, 4.74, 4.93, 5.18)
    assert rat.grams == (0.4, 0.6, 1.0, 2.0, 4.0, 6.0, 8.0, 15.0)
    assert rat.delta == pytest.approx(0.224, abs=5e-4)
    assert mouse.numbers == tuple(str(i) for i in range(1, 11))


def test_resolution_by_number_then_handle():
    fs = load_filament_set("mouse")
    got = fs.resolve([6, "6", 6.0, "6.0", " 6 ", "3.61", 3.61, "1.65", "3.612", "3.60", "x",
                      None, np.nan, "", "11"])
    assert got.tolist() == [5, 5, 5, 5, 5, 5, 5, 0, 5, -1, -1, -1, -1, -1, -1]
    assert fs.position("4.31") == 9
    with pytest.raises(AssayError, match="expected a filament number"):
        fs.position("4.5")


def test_lab_set_from_the_calculator_sheet():
    fs = load_filament_set(LAB_SET)
    sheet = _read_calculator(usecols="G:K", nrows=8)
    assert fs.numbers == tuple(str(int(n)) for n in sheet.iloc[:, 0])
    assert fs.log == pytest.approx(tuple(sheet.iloc[:, 1].astype(float)))
    assert fs.grams == pytest.approx(tuple(sheet.iloc[:, 3].astype(float)))
    interval = _read_calculator(usecols="H:I", nrows=10, header=None).iloc[9, 1]
    assert fs.delta == pytest.approx(float(interval), abs=1e-6)
    assert fs.position(8) == 7 and fs.position("4.74") == 7


def test_csv_set_errors_name_file_row_and_column(tmp_path):
    p = tmp_path / "kit.csv"
    p.write_text("# my kit\nnumber,log,grams\n1,1.65,0.008\n2,abc,0.02\n2,2.44,-1\n4,2.30,\n")
    with pytest.raises(AssayError) as err:
        load_filament_set(p)
    msg = str(err.value)
    assert f"{p}, row 4, column 'log': expected a number (found 'abc')" in msg
    assert f"{p}, row 5, column 'number': duplicate of row 4" in msg
    assert f"{p}, row 5, column 'grams'" in msg
    assert f"{p}, row 6, column 'log': log values must increase" in msg


def test_csv_set_header_problems(tmp_path):
    p = tmp_path / "kit.csv"
    p.write_text("handle,force\n1.65,0.008\n")
    with pytest.raises(AssayError, match="missing column 'number'.*\n.*missing column 'log'"):
        load_filament_set(p)
    with pytest.raises(AssayError, match="not a built-in set"):
        load_filament_set(tmp_path / "nope.csv")


def test_csv_set_without_grams_uses_the_log_scale(tmp_path):
    p = tmp_path / "kit.csv"
    p.write_text("number,log\nA,3.0\nB,3.5\nC,4.0\n")
    fs = load_filament_set(str(p))
    assert fs.grams == pytest.approx((0.1, 10 ** -0.5, 1.0))
    assert fs.delta == pytest.approx(0.5)
    assert fs.resolve(["B", "3.5", "C"]).tolist() == [1, 1, 2]


def test_filament_set_validates_itself():
    with pytest.raises(AssayError, match="increase"):
        FilamentSet("x", ("1", "2"), (2.0, 1.0), (1.0, 2.0))
    with pytest.raises(AssayError, match="at least 2"):
        FilamentSet("x", ("1",), (2.0,), (1.0,))


def test_log_at_interpolates_and_extrapolates():
    fs = load_filament_set("rat")
    assert fs.log_at(4.0) == pytest.approx(4.31)
    assert fs.log_at(4.5) == pytest.approx((4.31 + 4.56) / 2)
    assert fs.log_at(0.5) == pytest.approx(3.61 - 0.5 * 0.23)
    assert fs.log_at(8.5) == pytest.approx(5.18 + 0.5 * 0.25)


# ---------------------------------------------------------------- the up-down rule


def test_series_problems_accepts_a_correct_sequence():
    assert series_problems(["OOXO", "XXO"], ["3.84", "3.61"], filaments="mouse",
                           filaments_used=["3.61,3.84,4.08,3.84", "4.08; 3.84 3.61"]) == []
    # staying at the heaviest after an O is the rule at the end of the set
    assert series_problems(["OOX"], ["10"], filaments="mouse",
                           filaments_used=["9,10,10"]) == []


def test_series_problems_reports_rule_violations():
    got = series_problems(
        ["OXO", "OXX", "OX", "OXO"],
        ["3.84", "3.84", "4.08", "3.61"],
        filaments="mouse",
        filaments_used=["3.61,3.84,3.61", "3.61,4.08,3.84", "3.61,3.84,4.08", "3.61,9.99,3.61"],
    )
    by = {(p.row, p.field): p.why for p in got}
    assert by[(0, "last_filament")] == (
        "is filament 7 (log 3.84) but filaments_used ends at 6 (log 3.61)")
    assert by[(1, "filaments_used")].startswith(
        "stimulus 2: after O at filament 6 (log 3.61) the up-down rule gives 7 (log 3.84), "
        "found 8 (log 4.08)")
    assert by[(2, "filaments_used")] == "3 filaments recorded for 2 responses"
    assert by[(3, "filaments_used")].startswith("9.99 not in set 'mouse'")
    assert len(got) == 4


def test_series_problems_start_filament():
    got = series_problems(["OX"], ["4"], filaments="rat", filaments_used=["3,4"], start="4.31")
    assert len(got) == 1 and "should be the start filament 4 (log 4.31)" in got[0].why


# ---------------------------------------------------------------- SUDO


def test_sudo_hand_worked_rat():
    # rat set, 8 filaments: start at position 4 (2 g, log 4.31)
    # O X O X X: 4 -O-> 5 -X-> 4 -O-> 5 -X-> 4; 5th response X -> 3.5 filament units,
    # halfway between log 4.08 and 4.31
    t = sudo_thresholds(["OXOXX", "oxoxo"], filaments="rat")
    assert t["fifth_filament"].tolist() == ["4", "4"]
    assert t["position"].tolist() == [3.5, 4.5]
    assert t.loc[0, "threshold_g"] == pytest.approx(10 ** ((4.08 + 4.31) / 2 - 4))
    assert t.loc[1, "threshold_g"] == pytest.approx(10 ** ((4.31 + 4.56) / 2 - 4))
    assert (t["censored"] == "none").all()


def test_sudo_start_and_ends():
    # mouse, 10 filaments: middle = position 5 (log 3.22)
    t = sudo_thresholds(["XXXXX", "OOOOO", "XXXXO"], filaments="mouse")
    assert t["fifth_filament"].tolist() == ["1", "9", "1"]
    assert t["position"].tolist() == [0.5, 9.5, 1.5]
    assert t.loc[0, "censored"] == "left"
    assert t.loc[0, "bound_g"] == pytest.approx(10 ** (1.65 - 4))
    assert t.loc[0, "threshold_g"] == pytest.approx(10 ** (1.65 - 0.5 * 0.71 - 4))
    assert t.loc[1, "censored"] == "none"
    # from the top: start at 9, O O O O stays at 10, 5th O -> 10.5, off the end
    t = sudo_thresholds(["OOOOO"], filaments="mouse", start="4.17")
    assert t.loc[0, "position"] == 10.5 and t.loc[0, "censored"] == "right"
    assert t.loc[0, "bound_g"] == pytest.approx(10 ** (4.31 - 4))
    assert t.loc[0, "threshold_g"] == pytest.approx(10 ** (4.31 + 0.5 * 0.14 - 4))


def test_sudo_needs_five_and_checks_last():
    with pytest.raises(AssayError, match="exactly 5"):
        sudo_thresholds(["OXOX"], filaments="rat")
    with pytest.raises(AssayError, match="lead to filament 4"):
        sudo_thresholds(["OXOXX"], filaments="rat", last_filament=["5"])
    t = sudo_thresholds(["OXOXX"], filaments="rat", last_filament=["4.31"])
    assert t.loc[0, "position"] == 3.5


# ---------------------------------------------------------------- the assay entry


def _readings(**cols):
    n = len(next(iter(cols.values())))
    base = {"animal": ["a"] * n, "study_day": [0] * n, "trial": list(range(1, n + 1))}
    base.update(cols)
    return pd.DataFrame(base)


def test_assay_entry_is_registered():
    assert get_assay("von_frey") is ASSAY
    assert {q.name for q in ASSAY.quantities} == {
        "xo_series", "last_filament", "filaments_used", "force_g"}
    assert ASSAY.outcomes == ("threshold_g",)


def test_derive_single_trial_matches_thresholds():
    r = pd.DataFrame({"animal": ["m1", "m2"], "study_day": [3, 3], "trial": [1, 1],
                      "xo_series": ["OOXOXOX", "xxxx"], "last_filament": ["6", "1"]})
    out = derive_readings("von_frey", r, {"filaments": "mouse"})
    assert list(out.columns) == list(DERIVED_VALUES)
    t = thresholds(r.xo_series, r.last_filament, filaments="mouse")
    assert out.loc[0, "value"] == pytest.approx(t.loc[0, "threshold_g"])
    assert out.loc[0, ["outcome", "unit", "censored", "n_trials", "note"]].tolist() == [
        "threshold_g", "g", "none", 1, ""]
    assert out.loc[1, "censored"] == "left"
    assert out.loc[1, "value"] == out.loc[1, "bound"] == pytest.approx(10 ** (1.65 - 4))


def test_derive_averages_trials_and_propagates_censoring():
    s = VonFreySettings(trials=2)
    r = pd.DataFrame({
        "animal": ["a", "a", "b", "b", "c", "c"], "study_day": [1] * 6,
        "trial": [1, 2, 1, 2, 1, 2],
        "xo_series": ["OXOOXX", "XXXX", "OOXOXOX", "OOXXOXO", "XXXX", "OOOO"],
        "last_filament": ["5", "1", "6", "6", "1", "10"],
    })
    out = derive(r, s).set_index("animal")
    t = thresholds(r.xo_series, r.last_filament, filaments="mouse")
    est = t.threshold_g.fillna(t.bound_g).to_numpy()
    assert out.loc["a", "value"] == pytest.approx((est[0] + est[1]) / 2)
    assert out.loc["a", "censored"] == "left" and out.loc["a", "bound"] == out.loc["a", "value"]
    assert "1 of 2 trials left-censored" in out.loc["a", "note"]
    assert "trial 2: no change of response: all X" in out.loc["a", "note"]
    assert out.loc["b", "value"] == pytest.approx((est[2] + est[3]) / 2)
    assert out.loc["b", "censored"] == "none" and np.isnan(out.loc["b", "bound"])
    assert np.isnan(out.loc["c", "value"]) and out.loc["c", "censored"] == "none"
    assert "censored in both directions" in out.loc["c", "note"]
    assert out["n_trials"].tolist() == [2, 2, 2]


def test_derive_notes_protocol_and_trial_count():
    r = _readings(xo_series=["OOXOOXXX"], last_filament=["5"])
    out = derive(r, VonFreySettings(trials=2))
    assert out.loc[0, "note"] == (
        "5 stimuli after the first change of response (protocol: 4); 1 of 2 trials")


def test_check_lists_cell_problems_in_row_order():
    r = _readings(xo_series=["OXA", "", "OX", "OX"], last_filament=["5", "6", "99", "4"],
                  filaments_used=[None, None, None, "3.22,3.61"], force_g=[None, 2.0, None, None])
    got = [(p.index, p.quantity) for p in check(r, VonFreySettings())]
    assert got == [(0, "xo_series"), (1, "xo_series"), (1, "force_g"), (2, "last_filament"),
                   (3, "last_filament")]
    with pytest.raises(AssayError, match="5 bad readings"):
        derive(r, VonFreySettings())


def test_sudo_through_the_assay():
    r = _readings(xo_series=["OXOXX", "OXOXO"], last_filament=["4", None])
    out = derive(r, VonFreySettings(method="sudo", filaments="rat", trials=2))
    expected = (10 ** ((4.08 + 4.31) / 2 - 4) + 10 ** ((4.31 + 4.56) / 2 - 4)) / 2
    assert out.loc[0, "value"] == pytest.approx(expected)
    bad = check(_readings(xo_series=["OXOXX"], last_filament=["5"]),
                VonFreySettings(method="sudo", filaments="rat"))
    assert len(bad) == 1 and bad[0].quantity == "last_filament"


def test_electronic_mean_and_cutoff():
    s = VonFreySettings(method="electronic", cutoff_g=8.0, trials=3)
    r = _readings(force_g=[3.0, 5.0, 8.0])
    out = derive(r, s)
    assert out.loc[0, "value"] == pytest.approx(16 / 3)
    assert out.loc[0, "censored"] == "right" and out.loc[0, "bound"] == pytest.approx(16 / 3)
    bad = check(_readings(force_g=[3.0, 9.0, -1.0, "x"], xo_series=["OX", None, None, None]), s)
    assert [(p.index, p.quantity) for p in bad] == [
        (0, "xo_series"), (1, "force_g"), (2, "force_g"), (3, "force_g")]
    plain = derive(_readings(force_g=[3.0, 5.0]), VonFreySettings(method="electronic", trials=2))
    assert plain.loc[0, ["value", "censored", "note"]].tolist() == [4.0, "none", ""]


def test_settings_filaments_may_be_a_csv_path():
    r = _readings(xo_series=["oxooxx"], last_filament=[5])
    out = derive(r, VonFreySettings(filaments=str(LAB_SET)))
    expected = thresholds(["oxooxx"], [5], filaments=LAB_SET).loc[0, "threshold_g"]
    assert out.loc[0, "value"] == pytest.approx(expected, rel=1e-12)
    assert out.loc[0, "value"] == pytest.approx(0.343083, rel=1e-3)


def test_public_surface_is_pinned():
    import nocilab.assays.von_frey as vf

    assert vf.__all__ == sorted(vf.__all__)
    assert vf.__all__ == [
        "ASSAY", "BUILTIN_SETS", "FilamentSet", "SUDO_COLUMNS", "SeriesProblem",
        "SeriesProgress", "THRESHOLD_COLUMNS", "check", "derive", "dixon_k",
        "load_filament_set", "series_problems", "series_progress", "sudo_thresholds",
        "thresholds",
    ]
    assert list(thresholds(["OX"], [2], filaments="rat").columns) == list(vf.THRESHOLD_COLUMNS)
    assert list(sudo_thresholds(["OXOXO"], filaments="rat").columns) == list(vf.SUDO_COLUMNS)
