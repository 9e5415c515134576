"""`nocilab analyze` end to end: the report folder, its numbers, blinding, tidy stats."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from nocilab.cli import main
from nocilab.demo import write_demo_files
from nocilab.demo.run import DEMO_MAPPINGS


@pytest.fixture(scope="module")
def imported_study(tmp_path_factory, simulated_small=None) -> Path:
    from nocilab.demo import simulate_study

    folder = tmp_path_factory.mktemp("an") / "study"
    write_demo_files(simulate_study(seed=11, mice_per_donor=2), folder)
    for name, (mapping, _) in DEMO_MAPPINGS.items():
        if name in ("paw_pressure_wide.xlsx", "von_frey.csv", "ienfd.csv"):
            assert main(["import", str(folder), str(folder / "raw" / name), "--mapping", mapping]) == 0
    return folder


@pytest.fixture(scope="module")
def report_dir(imported_study, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rep")
    assert main(["analyze", str(imported_study), "--out", str(out), "--baseline", "change"]) == 0
    return out


def test_report_folder_holds_every_output(report_dir):
    assert (report_dir / "report.html").is_file()
    for name in ("summary", "anova", "contrasts", "donors", "affected_donors", "effect_sizes",
                 "derived", "arrive", "provenance"):
        assert (report_dir / "results" / f"{name}.csv").is_file(), name
    assert (report_dir / "results.xlsx").is_file() and (report_dir / "results.pzfx").is_file()
    figs = {p.name for p in (report_dir / "figures").iterdir()}
    for ext in ("png", "pdf", "svg"):
        assert f"paw_pressure__threshold_g__time_course.{ext}" in figs
    assert "ienfd__fibres_per_mm__endpoint.svg" in figs


def test_report_is_self_contained_and_says_what_it_did(report_dir):
    page = (report_dir / "report.html").read_text()
    assert "<svg" in page
    assert not re.search(r"""(src|href)=["']https?://""", page)  # no network needed
    assert "<script" not in page
    assert "as change from each animal" in page  # the baseline mode used is stated
    assert "SIMULATED DATA" in page
    assert "Satterthwaite" in page and "ARRIVE" in page
    # provenance names the study file's hash and the derived table's hash
    prov = pd.read_csv(report_dir / "results" / "provenance.csv")
    assert prov["value"].str.contains("sha256:").sum() >= 4
    assert "sealed" not in prov["value"].str.cat()
    # settings are written as values, not Python reprs
    settings = prov.set_index("item").loc["settings", "value"]
    assert "baseline_days: -3, -1;" in settings, settings
    assert not re.search(r"np\.|\(-?\d|\{|[\[(]'", settings), settings  # no reprs of numbers, tuples, dicts
    assert "baseline_days: -3, -1;" in page


def test_numbers_in_report_come_from_the_results_tables(report_dir):
    contrasts = pd.read_csv(report_dir / "results" / "contrasts.csv")
    pp = contrasts[(contrasts.assay == "paw_pressure") & (contrasts.model == "mixed") & (contrasts.day > 0)]
    peak = pp.loc[pp["t"].abs().idxmax()]
    page = (report_dir / "report.html").read_text()
    from nocilab.report.html import fmt_num

    assert f"day {int(peak['day'])}: {fmt_num(peak['estimate'])} g" in page
    summary = pd.read_csv(report_dir / "results" / "summary.csv")
    assert set(summary["assay"]) == {"paw_pressure", "von_frey", "ienfd"}
    # simulated patient IgG lowers paw-pressure thresholds: the contrast is negative and significant
    assert peak["estimate"] < 0 and peak["p_adj"] < 0.05


def test_analyze_without_data_is_a_clear_error(tmp_path, capsys, simulated_small):
    folder = tmp_path / "empty"
    write_demo_files(simulated_small, folder)
    assert main(["check", str(folder)]) == 0
    from nocilab.store import Store
    from nocilab.model import load_study

    Store.open(load_study(folder).database_url()).close()
    code = main(["analyze", str(folder), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code != 0 and "import raw readings first" in err and "Traceback" not in err


def test_tidy_stats_command(tmp_path, report_dir, capsys):
    derived = pd.read_csv(report_dir / "results" / "derived.csv")
    table = tmp_path / "pp.csv"
    derived[derived.assay == "paw_pressure"].rename(columns={"value": "grams"}).to_csv(table, index=False)
    out = tmp_path / "stats"
    code = main(["stats", str(table), "--value", "grams", "--arm", "arm", "--day", "study_day",
                 "--animal", "animal", "--donor", "donor", "--control", "control", "--out", str(out)])
    assert code == 0
    for name in ("anova", "contrasts", "donors", "donor_test"):
        assert (out / f"{name}.csv").is_file()
    early = tmp_path / "early"
    assert main(["stats", str(table), "--value", "grams", "--arm", "arm", "--day", "study_day",
                 "--animal", "animal", "--donor", "donor", "--auc-window", "1,3",
                 "--out", str(early)]) == 0
    assert pd.read_csv(early / "donor_test.csv").iloc[0]["window"] == "days 1-3"
    # the study's report used its study file's window (days 1-14); the same window on the
    # command line gives the same test (--window and --auc-window are one option)
    same = tmp_path / "same"
    assert main(["stats", str(table), "--value", "grams", "--arm", "arm", "--day", "study_day",
                 "--animal", "animal", "--donor", "donor", "--window", "1,14",
                 "--out", str(same)]) == 0
    tidy_test = pd.read_csv(same / "donor_test.csv").iloc[0]
    study_test = pd.read_csv(report_dir / "results" / "donor_test.csv")
    study_test = study_test[study_test.assay == "paw_pressure"].iloc[0]
    assert study_test["window"] == tidy_test["window"] == "days 1-14"
    assert tidy_test["t"] == pytest.approx(study_test["t"], rel=1e-12)
    default = pd.read_csv(out / "donor_test.csv").iloc[0]  # no study file: day 1 to the last
    assert default["window"] == "days 1-21" and default["t"] != pytest.approx(tidy_test["t"])
    summary = pd.read_csv(same / "summary.csv").iloc[0]
    assert summary["window"] == "days 1-14, from the command line (--window 1,14)"
    anova = pd.read_csv(out / "anova.csv")
    for col in ("term", "F", "df_num", "df_den", "p", "gg_epsilon", "p_gg"):
        assert col in anova.columns
    rm = anova[anova.model == "rm_anova"].set_index("term")
    assert 0 < rm.loc["day", "gg_epsilon"] <= 1 and rm.loc["day", "p_gg"] >= rm.loc["day", "p"]
    contrasts = pd.read_csv(out / "contrasts.csv")
    for col in ("outcome", "day", "contrast", "estimate", "se", "df", "t", "p", "p_adj", "method"):
        assert col in contrasts.columns
    # same numbers as the study analysis run on raw values
    a = contrasts[contrasts.model == "mixed"].sort_values("day")["estimate"].to_numpy()
    d = derived[derived.assay == "paw_pressure"]
    means = d.groupby(["study_day", "arm"])["value"].mean().unstack()
    assert a == pytest.approx((means["patient"] - means["control"]).to_numpy(), rel=1e-6)


def test_tidy_stats_names_missing_columns(tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("mouse,group,day,grams\nm1,a,1,3\n")
    code = main(["stats", str(table), "--value", "grams", "--arm", "arm", "--day", "day",
                 "--animal", "animal", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 3 and "no column 'arm'" in err and "no column 'animal'" in err


def test_report_carries_the_donor_level_test(report_dir):
    page = (report_dir / "report.html").read_text()
    assert "Donor-level test of the arm effect" in page and "Donor-level test (Holm)" in page
    summary_all = pd.read_csv(report_dir / "results" / "summary.csv")
    n = int((summary_all["p_donor_test_holm"] < 0.05).sum())
    assert f"an arm differed from control on {n} of" in page
    dt = pd.read_csv(report_dir / "results" / "donor_test.csv")
    summary = pd.read_csv(report_dir / "results" / "summary.csv")
    paw = dt[(dt["assay"] == "paw_pressure") & (dt["outcome"] == "threshold_g")].iloc[0]
    assert paw["unit"] == "donor" and paw["df"] == paw["n_units"] + paw["n_units_control"] - 2
    row = summary[(summary["assay"] == "paw_pressure")].iloc[0]
    assert row["p_donor_test"] == pytest.approx(paw["p"], rel=1e-12)
    assert row["p_donor_test_holm"] >= row["p_donor_test"]
    # the sentence a reader sees first names the donors it rests on
    assert f"{int(paw['n_units'])} vs {int(paw['n_units_control'])} donors" in page


def test_report_gives_the_planning_components_power_from_takes(report_dir, imported_study):
    from nocilab.design.planning import pilot_table, pilot_variance
    from nocilab.model import load_study
    from nocilab.store import Store

    page = (report_dir / "report.html").read_text()
    assert "For planning the next study" in page
    planning = pd.read_csv(report_dir / "results" / "planning.csv")
    assert "ienfd" not in set(planning["assay"])  # an endpoint has no course to model
    row = planning[planning["assay"] == "paw_pressure"].iloc[0]
    study = load_study(imported_study)
    with Store.open(study.database_url(), create=False) as store:
        derived, _ = pilot_table(study, store)
    pilot = pilot_variance(study, derived, outcome="paw_pressure.threshold_g")
    assert row["loglik"] == pytest.approx(pilot.loglik, abs=1e-6)
    assert row["sd_residual"] == pytest.approx(pilot.variance.sd_residual, rel=1e-3)
    assert row["rho"] == pytest.approx(pilot.variance.rho, abs=1e-3)


def test_prism_file_holds_the_donor_means_the_donor_level_test_compared(report_dir):
    """A Prism user reproduces the donor-level test from results.pzfx: an unpaired t test
    (equal SDs) on each outcome's donor-mean columns gives results/donor_test.csv."""
    import xml.etree.ElementTree as ET

    from scipy import stats as sps

    ns = {"p": "http://graphpad.com/prism/Prism.htm"}
    root = ET.parse(report_dir / "results.pzfx").getroot()
    tables = {t.find("p:Title", ns).text: t for t in root.findall("p:Table", ns)}
    test = pd.read_csv(report_dir / "results" / "donor_test.csv")
    assert len(test) >= 2
    for r in test.itertuples(index=False):
        table = tables[f"{r.assay}.{r.outcome} donor means"]
        assert table.get("TableType") == "OneWay"
        cols = {c.find("p:Title", ns).text: [float(x.text) for x in c.findall("p:Subcolumn/p:d", ns)]
                for c in table.findall("p:YColumn", ns)}
        control, treated = list(cols.values())  # control first
        assert (len(treated), len(control)) == (r.n_units, r.n_units_control)
        assert sum(treated) / len(treated) == pytest.approx(r.mean, rel=1e-12)
        assert sum(control) / len(control) == pytest.approx(r.mean_control, rel=1e-12)
        t = sps.ttest_ind(treated, control, equal_var=True)
        assert t.statistic == pytest.approx(r.t, rel=1e-9) and t.pvalue == pytest.approx(r.p, rel=1e-8)


def test_baseline_days_get_no_significance_marks(tmp_path):
    """A baseline imbalance (day -1) is listed as a check, never starred in the figure."""
    from types import SimpleNamespace

    from nocilab.report.build import _figure_job
    from nocilab.stats.analysis import analyze_outcome
    from nocilab.stats.contrasts import BASELINE_CHECK

    d = pd.read_csv(Path(__file__).resolve().parents[1] / "stats" / "reference" / "balanced.csv")
    d.loc[(d["arm"] == "patient") & (d["study_day"] == -1), "value"] -= 25.0
    res = analyze_outcome(d, donor="donor", control="control", baseline_days=[-1])
    c = res.contrast_table()
    base = c[(c["model"] == "mixed") & (c["day"] == -1)].iloc[0]
    assert base["p"] < 0.001 and pd.isna(base["p_adj"]) and base["method"] == BASELINE_CHECK
    inputs = SimpleNamespace(arm_labels={}, control="control", dosing_days=(0,))
    job = _figure_job(inputs, ("x", "y"), d, res, tmp_path, "y")
    assert -1 not in set(job.marks["study_day"])
    assert set(job.marks["study_day"]) == {1, 2, 4, 7, 10}


def test_first_screen_counts_donors_by_class_and_says_what_not_affected_means(report_dir):
    """The summary gives clearly / possibly / not affected per arm, from affected_donors.csv,
    and the lead says how many control-donor calls chance explains; no "responders"."""
    page = (report_dir / "report.html").read_text()
    first = page[:page.index("</table>")]  # the lead and the summary table
    assert "Donors clearly / possibly / not affected" in first
    assert "responder" not in page.lower()
    assert "the counts are not a measure of how patients differ" in first
    aff = pd.read_csv(report_dir / "results" / "affected_donors.csv")
    ctrl = aff[aff["arm"] == "control"]
    assert (f"were called clearly affected {ctrl['n_clearly'].sum()} times in "
            f"{ctrl['n_evaluable'].sum()} classifications") in first
    for r in aff.itertuples():
        cell = f"{r.n_clearly} / {r.n_possibly} / {r.n_not} of {r.n_donors}"
        assert cell in first, cell
    assert "Calibrated by simulation on the demo design" in page
    assert "5.2%" in page and "89.5%" in page


def test_report_uses_and_states_the_study_files_window(report_dir, imported_study):
    from nocilab.model import load_study

    assert load_study(imported_study).analysis_window() == ((1, 14), "[analysis] window")
    said = "days 1-14, from the study file ([analysis] window)"
    summary = pd.read_csv(report_dir / "results" / "summary.csv")
    assert set(summary.loc[summary["status"] == "ok", "window"]) == {said}
    dt = pd.read_csv(report_dir / "results" / "donor_test.csv").set_index("assay")
    assert dt.loc["paw_pressure", "window"] == dt.loc["von_frey", "window"] == "days 1-14"
    page = (report_dir / "report.html").read_text()
    assert f"Analysis window: {said}" in page
    prov = pd.read_csv(report_dir / "results" / "provenance.csv").set_index("item")
    assert said in prov.loc["settings", "value"]


def test_window_on_the_command_line_wins(imported_study, tmp_path, capsys):
    out = tmp_path / "rep"
    # --auc-window is the older name of --window
    assert main(["analyze", str(imported_study), "--out", str(out), "--auc-window", "1,7"]) == 0
    said = "days 1-7, from the command line (--window 1,7)"
    assert set(pd.read_csv(out / "results" / "summary.csv")["window"]) == {said}
    dt = pd.read_csv(out / "results" / "donor_test.csv").set_index("assay")
    assert dt.loc["paw_pressure", "window"] == "days 1-7"
    assert dt.loc["ienfd", "window"] == "day 21"  # an endpoint is tested on its one day
    assert f"Analysis window: {said}" in (out / "report.html").read_text()


@pytest.mark.parametrize("text", ["0,7", "7,1", "1-7"])
def test_a_bad_window_is_refused_before_anything_is_written(imported_study, tmp_path, capsys,
                                                             text):
    out = tmp_path / "rep"
    code = main(["analyze", str(imported_study), "--out", str(out), "--window", text])
    err = capsys.readouterr().err
    assert code != 0 and "--window" in err and "Traceback" not in err
    assert not out.exists()


def test_analyze_one_outcome(imported_study, tmp_path):
    out = tmp_path / "vf"
    assert main(["analyze", str(imported_study), "--out", str(out),
                 "--outcome", "von_frey.threshold_g"]) == 0
    summary = pd.read_csv(out / "results" / "summary.csv")
    assert summary[["assay", "outcome"]].values.tolist() == [["von_frey", "threshold_g"]]
    # Holm over the one outcome chosen, and the report says the family is the choice
    assert summary["p_arm_day_holm"].iloc[0] == pytest.approx(summary["p_arm_day"].iloc[0])
    page = (out / "report.html").read_text()
    assert "the outcomes chosen for this report: von_frey.threshold_g" in page
    prov = pd.read_csv(out / "results" / "provenance.csv").set_index("item")
    assert prov.loc["outcomes", "value"] == "von_frey.threshold_g (chosen with --outcome)"
    assert not any(p.name.startswith("paw_pressure") for p in (out / "figures").iterdir())


@pytest.mark.parametrize("name, says", [
    ("grip.force_g", "no outcome grip.force_g; outcomes: ienfd.fibres_per_mm, "
                     "paw_pressure.threshold_g, von_frey.threshold_g"),
    ("threshold_g", "outcome threshold_g is measured by several assays "
                    "(paw_pressure.threshold_g, von_frey.threshold_g); name it as ASSAY.OUTCOME"),
])
def test_analyze_an_unknown_outcome_lists_the_outcomes(imported_study, tmp_path, capsys, name,
                                                       says):
    out = tmp_path / "x"
    code = main(["analyze", str(imported_study), "--out", str(out), "--outcome", name])
    err = " ".join(capsys.readouterr().err.split())
    assert code != 0 and says in err and "Traceback" not in err
    assert not out.exists()


def test_tidy_stats_with_several_outcomes(tmp_path, report_dir, capsys):
    derived = report_dir / "results" / "derived.csv"
    common = ["stats", str(derived), "--value", "value", "--arm", "arm", "--day", "study_day",
              "--animal", "animal", "--donor", "donor", "--control", "control"]
    # a table of several outcomes is not analysed as one column
    code = main([*common, "--out", str(tmp_path / "mixed")])
    err = " ".join(capsys.readouterr().err.split())
    assert code != 0 and "holds 3 outcomes (ienfd.fibres_per_mm, paw_pressure.threshold_g, " \
        "von_frey.threshold_g); choose with --outcome NAME" in err
    assert not (tmp_path / "mixed").exists()
    out = tmp_path / "two"
    assert main([*common, "--outcome", "paw_pressure.threshold_g", "--outcome",
                 "von_frey.threshold_g", "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert summary[["assay", "outcome"]].values.tolist() == [
        ["paw_pressure", "threshold_g"], ["von_frey", "threshold_g"]]
    from nocilab.stats.multiplicity import holm

    assert summary["p_donor_test_holm"].to_numpy() == pytest.approx(
        holm(summary["p_donor_test"].to_numpy()))
    one = tmp_path / "one"
    assert main([*common, "--outcome", "paw_pressure.threshold_g", "--out", str(one)]) == 0
    a = pd.read_csv(out / "donor_test.csv").query("assay == 'paw_pressure'")
    b = pd.read_csv(one / "donor_test.csv")
    assert a["t"].to_numpy() == pytest.approx(b["t"].to_numpy(), rel=1e-12)
    capsys.readouterr()
    code = main([*common, "--outcome", "grip.force_g", "--out", str(tmp_path / "bad")])
    err = " ".join(capsys.readouterr().err.split())
    assert code != 0 and "no outcome grip.force_g; outcomes: ienfd.fibres_per_mm, " \
        "paw_pressure.threshold_g" in err


def test_tidy_stats_outcome_needs_an_outcome_column(tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("animal,arm,day,grams\nm1,a,1,3\nm2,b,1,4\n")
    code = main(["stats", str(table), "--value", "grams", "--arm", "arm", "--day", "day",
                 "--animal", "animal", "--outcome", "x", "--out", str(tmp_path / "o")])
    err = " ".join(capsys.readouterr().err.split())
    assert code != 0 and "--outcome needs a column named outcome; columns are animal, arm, day, " \
        "grams" in err and "Traceback" not in err


def test_analyze_scale_log_gives_ratios_and_a_log_axis(imported_study, tmp_path):
    out = tmp_path / "log"
    assert main(["analyze", str(imported_study), "--out", str(out), "--outcome",
                 "paw_pressure.threshold_g", "--scale", "log"]) == 0
    summary = pd.read_csv(out / "results" / "summary.csv")
    assert summary["scale"].tolist() == ["log10"]
    c = pd.read_csv(out / "results" / "contrasts.csv")
    assert len(c) and c["ratio"].to_numpy() == pytest.approx(10.0 ** c["estimate"].to_numpy())
    page = " ".join((out / "report.html").read_text().split())
    assert "of geometric means (95% CI" in page
    assert ("Scale: paw_pressure.threshold_g on the log10 scale, chosen on the command line "
            "with --scale log") in page
    assert "Geometric mean ×/÷ SEM factor per arm (log axis)" in page
    assert "Outcomes analysed on the log10 scale: paw_pressure.threshold_g" in page


def test_analyze_scale_linear_overrides_the_study_file(imported_study, tmp_path):
    out = tmp_path / "lin"
    assert main(["analyze", str(imported_study), "--out", str(out), "--outcome",
                 "von_frey.threshold_g", "--scale", "linear"]) == 0
    assert pd.read_csv(out / "results" / "summary.csv")["scale"].tolist() == ["linear"]
    assert "Scale: every outcome on the values as measured" in (out / "report.html").read_text()


def test_analyze_takes_log_outcomes_from_the_study_file(report_dir):
    summary = pd.read_csv(report_dir / "results" / "summary.csv").set_index("assay")
    assert summary.loc["von_frey", "scale"] == "log10"
    assert summary.loc["paw_pressure", "scale"] == "linear"
    import html

    page = html.unescape(" ".join((report_dir / "report.html").read_text().split()))
    assert ("Scale: von_frey.threshold_g on the log10 scale, listed in the study file's "
            "[analysis] log_outcomes (von Frey thresholds are close to log-normal") in page


@pytest.mark.parametrize("command", ["analyze", "stats"])
def test_a_bad_scale_is_refused(imported_study, report_dir, tmp_path, capsys, command):
    out = tmp_path / "bad"
    if command == "analyze":
        args = ["analyze", str(imported_study)]
    else:
        args = ["stats", str(report_dir / "results" / "derived.csv"), "--value", "value",
                "--arm", "arm", "--day", "study_day", "--animal", "animal",
                "--outcome", "von_frey.threshold_g", "--control", "control"]
    code = main([*args, "--scale", "ln", "--out", str(out)])
    err = " ".join(capsys.readouterr().err.split())
    assert code != 0 and "--scale must be linear or log; got ln" in err
    assert "Traceback" not in err and not out.exists()


def test_tidy_stats_scale_log_equals_linear_stats_on_log10_values(tmp_path, report_dir):
    import numpy as np

    derived = pd.read_csv(report_dir / "results" / "derived.csv")
    vf = derived[(derived["assay"] == "paw_pressure")].copy()
    vf.to_csv(tmp_path / "raw.csv", index=False)
    logged = vf.assign(value=np.log10(vf["value"]), bound=np.log10(vf["bound"]))
    logged.to_csv(tmp_path / "log10.csv", index=False)
    common = ["--value", "value", "--arm", "arm", "--day", "study_day", "--animal", "animal",
              "--donor", "donor", "--control", "control"]
    assert main(["stats", str(tmp_path / "raw.csv"), *common, "--scale", "log",
                 "--out", str(tmp_path / "a")]) == 0
    assert main(["stats", str(tmp_path / "log10.csv"), *common, "--out", str(tmp_path / "b")]) == 0
    a = pd.read_csv(tmp_path / "a" / "donor_test.csv")
    b = pd.read_csv(tmp_path / "b" / "donor_test.csv")
    assert a["scale"].tolist() == ["log10"] and b["scale"].tolist() == ["linear"]
    # the same fit on the same numbers: equal to rounding
    assert a["t"].to_numpy() == pytest.approx(b["t"].to_numpy(), rel=1e-9)
    assert a["ratio"].to_numpy() == pytest.approx(10.0 ** b["difference"].to_numpy(), rel=1e-9)
    ca = pd.read_csv(tmp_path / "a" / "contrasts.csv")
    cb = pd.read_csv(tmp_path / "b" / "contrasts.csv")
    assert ca["estimate"].to_numpy() == pytest.approx(cb["estimate"].to_numpy(), rel=1e-6)


def test_mid_study_an_outcome_measured_in_one_arm_only_leaves_the_rest_of_the_report(tmp_path):
    """Mid-study, one assay may so far have readings from the patient arm only: the
    report is still written, that outcome's section says why it is not analysed, and it
    stays out of the Prism file (whose tables put the control first)."""
    from nocilab.demo import simulate_study
    from nocilab.model import load_study

    folder = tmp_path / "study"
    sim = simulate_study(seed=11, mice_per_donor=2)
    write_demo_files(sim, folder)
    raw = folder / "raw"
    animals = load_study(folder / "study.toml").animal_table()
    patients = set(animals.loc[animals["arm"] == "patient", "animal"])
    ienfd = pd.read_csv(raw / "ienfd.csv")
    ienfd[ienfd["animal"].isin(patients)].to_csv(raw / "ienfd_patients.csv", index=False)
    for name in ("paw_pressure_wide.xlsx", "ienfd_patients.csv"):
        mapping = DEMO_MAPPINGS.get(name, DEMO_MAPPINGS["ienfd.csv"])[0]
        assert main(["import", str(folder), str(raw / name), "--mapping", mapping]) == 0
    out = tmp_path / "rep"
    assert main(["analyze", str(folder), "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert ("Not analysed: readings so far only from patient; none yet from the control arm "
            "(control): nothing to compare until both are measured") in page
    summary = pd.read_csv(out / "results" / "summary.csv")
    summary = summary.set_index("outcome")
    assert summary.loc["threshold_g", "p_arm_day"] < 1
    assert pd.isna(summary.loc["fibres_per_mm", "p_arm_day"])  # listed, not tested
    figures = {p.name.split("__")[0] for p in (out / "figures").iterdir()}
    assert figures == {"paw_pressure"}
    prism = (out / "results.pzfx").read_text()
    assert "paw_pressure.threshold_g" in prism and "ienfd" not in prism
