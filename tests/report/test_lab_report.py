"""The report's laboratory part, from plates and cell tables imported as a lab would:
sections with their key results, figures, exports and methods; an excluded plate named
with its reason; a study without laboratory data keeps the report it had."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from nocilab.cli import main
from nocilab.demo import simulate_study, write_demo_files
from nocilab.demo.lab import QUPATH_COLUMNS, simulate_lab, write_lab_files
from nocilab.demo.run import DEMO_MAPPINGS


@pytest.fixture(scope="module")
def lab_study(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lab") / "study"
    sim = simulate_study(seed=11, mice_per_donor=2)
    write_demo_files(sim, folder)
    for name, (mapping, _) in DEMO_MAPPINGS.items():
        if name in ("paw_pressure_wide.xlsx", "von_frey.csv"):
            assert main(["import", str(folder), str(folder / "raw" / name),
                         "--mapping", mapping]) == 0
    files = write_lab_files(simulate_lab(sim, seed=11), folder)
    serum = files["serum"]
    for export, layout in zip(serum[::2], serum[1::2], strict=True):
        assert main(["import-plates", str(folder), str(export), "--layout", str(layout),
                     "--assay", "serum_igg", "--by", "lab"]) == 0
    export, layout = files["cytokines"]
    assert main(["import-plates", str(folder), str(export), "--layout", str(layout),
                 "--assay", "cytokines", "--by", "lab"]) == 0
    cells, images = files["binding"]
    options = [f"--{k.replace('cell_class', 'class')}={v}" for k, v in QUPATH_COLUMNS.items()]
    assert main(["import-cells", str(folder), str(cells), "--images", str(images),
                 *options, "--by", "lab"]) == 0
    assert main(["exclude-plate", str(folder), "serum_igg_day10:2", "--reason",
                 "wells dried out", "--by", "pi"]) == 0
    return folder


@pytest.fixture(scope="module")
def report(lab_study, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rep")
    assert main(["analyze", str(lab_study), "--out", str(out)]) == 0
    return out


def _sections(html: str) -> dict[str, str]:
    """section id -> its HTML."""
    return dict(re.findall(r'<section id="([^"]+)" class="outcome">(.*?)</section>', html,
                           flags=re.S))


def test_the_report_has_every_laboratory_section(report):
    html = (report / "report.html").read_text(encoding="utf-8")
    secs = _sections(html)
    for anchor in ("lab-plates", "lab-serum", "lab-exposure-response", "lab-cytokines",
                   "lab-binding", "lab-correlations"):
        assert anchor in secs, anchor
        assert "Not computed" not in secs[anchor], (anchor, secs[anchor][:400])
        assert "<svg" in secs[anchor], anchor
    assert "wells dried out" in secs["lab-plates"] and "excluded by a person" in secs["lab-plates"]
    assert re.search(r"Elimination half-life \(geometric mean\): .*days \(95% CI", secs["lab-serum"])
    assert "equivalent within the margin" in secs["lab-cytokines"]
    assert "never read as" in secs["lab-cytokines"]
    assert "Donor binding score" in secs["lab-binding"] and "P03" in secs["lab-binding"]
    methods = html.split('<section id="methods">')[1].split("</section>")[0]
    assert "four-parameter logistic" in methods and "Spearman" in methods


def test_the_exports_hold_the_laboratory_tables(report):
    res = report / "results"
    for name in ("lab_curves", "lab_standards", "serum_igg", "clearance_animals",
                 "clearance_groups", "exposure_response", "cytokine_equivalence",
                 "binding_donors", "binding_comparison", "donor_correlations"):
        assert (res / f"{name}.csv").is_file(), name
    curves = pd.read_csv(res / "lab_curves.csv")
    assert curves.loc[curves["plate"] == "serum_igg_day10:2", "status"].tolist() == ["excluded"]
    serum = pd.read_csv(res / "serum_igg.csv")
    day10 = serum[serum["study_day"] == 10]
    assert day10["n_plates"].max() == 1 and day10["animal"].nunique() == 24  # 28 mice: 24 on plate 1
    hl = pd.read_csv(res / "clearance_groups.csv")
    arms = hl[hl["level"] == "arm"]["geometric_mean_half_life_days"]
    assert ((arms > 4) & (arms < 8)).all()
    assert (report / "figures" / "serum_igg_time_course.png").is_file()
    assert (report / "figures" / "cytokine_forest.svg").is_file()
    with pd.ExcelFile(report / "results.xlsx") as book:
        sheets = book.sheet_names
    assert "cytokine_equivalence" in sheets and "serum_igg" in sheets


def test_derive_writes_the_laboratory_rows(lab_study, tmp_path):
    assert main(["derive", str(lab_study), "--out", str(tmp_path / "d.csv")]) == 0
    d = pd.read_csv(tmp_path / "d.csv")
    outcomes = set(zip(d["assay"], d["outcome"], strict=True))
    assert {("serum_igg", "human_igg_ug_per_ml"), ("cytokines", "il6_pg_per_ml"),
            ("clearance", "half_life_days")} <= outcomes
    serum = d[d["outcome"] == "human_igg_ug_per_ml"]
    assert (serum["unit"] == "ug/mL").all() and serum["value"].between(1, 2000).all()
    assert 10 not in set(serum["study_day"]) or serum[serum["study_day"] == 10][
        "animal"].nunique() == 24  # day 10's second plate is excluded
