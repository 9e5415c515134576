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
    assert not re.search(r"np\.|\(|\{|'", settings), settings
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
    tidy_test = pd.read_csv(out / "donor_test.csv").iloc[0]
    study_test = pd.read_csv(report_dir / "results" / "donor_test.csv")
    study_test = study_test[study_test.assay == "paw_pressure"].iloc[0]
    assert tidy_test["t"] == pytest.approx(study_test["t"], rel=1e-12)
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
    assert "5.4%" in page and "83.1%" in page
