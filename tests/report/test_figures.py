"""Figures: they render without warnings, hold the artists the data call for, and
their SVG embeds (valid XML, ids unique per figure)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from nocilab.errors import NocilabError, SchemaError
from nocilab.report import style
from nocilab.report.figures import (
    censoring_bars,
    donor_forest,
    donor_small_multiples,
    endpoint_dots,
    figure_svg,
    power_curves,
    save_figure,
    time_course,
)

DAYS = (-3, -1, 1, 3, 7, 14)


def make_derived(seed: int = 1, *, donors: dict[str, int] | None = None, mice: int = 3,
                 days: tuple[int, ...] = DAYS, outcome: str = "threshold_g", unit: str = "g",
                 cutoff: float | None = 160.0, effect: float = -45.0) -> pd.DataFrame:
    """A seeded derived table: donors per arm, ``mice`` per donor, right-censored at ``cutoff``."""
    rng = np.random.default_rng(seed)
    donors = donors or {"patient": 4, "control": 3}
    rows = []
    n = 0
    for arm, k in donors.items():
        for j in range(k):
            donor = f"{arm[0].upper()}{j + 1:02d}"
            donor_dev = rng.normal(0, 8)
            for _ in range(mice):
                n += 1
                animal = f"M{n:03d}"
                base = 125 + donor_dev + rng.normal(0, 10)
                for day in days:
                    shift = effect if (arm != "control" and day > 0) else 0.0
                    v = base + shift * np.exp(-max(day - 7, 0) / 10) + rng.normal(0, 6)
                    cens = "none"
                    bound = np.nan
                    if cutoff is not None and v >= cutoff:
                        v, cens, bound = cutoff, "right", cutoff
                    rows.append({"animal": animal, "donor": donor, "preparation": f"IgG-{donor}",
                                 "arm": arm, "sex": "F", "cage": f"K{j + 1}", "study_day": day,
                                 "assay": "paw_pressure", "outcome": outcome, "value": float(v),
                                 "unit": unit, "censored": cens, "bound": bound, "n_trials": 3,
                                 "note": ""})
    return pd.DataFrame(rows)


@pytest.fixture
def derived() -> pd.DataFrame:
    d = make_derived()
    # one animal censored on one day, so the censored marker appears
    i = d.index[(d["animal"] == "M001") & (d["study_day"] == -3)][0]
    d.loc[i, ["value", "censored", "bound"]] = [160.0, "right", 160.0]
    return d


def _gids(fig: Figure, prefix: str, kind=None) -> list[str]:
    found = []
    for ax in fig.axes:
        for art in ax.get_children():
            gid = art.get_gid()
            if gid and gid.startswith(prefix) and (kind is None or isinstance(art, kind)):
                found.append(gid)
    return found


# --------------------------------------------------------------------- time course

def test_time_course_one_mean_line_per_arm_and_one_faint_line_per_animal(derived):
    fig = time_course(derived, control="control", arm_labels={"patient": "FMS IgG",
                                                                 "control": "HC IgG"})
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    means = sorted(_gids(fig, "mean_"))
    assert means == ["mean_control", "mean_patient"]
    assert len(_gids(fig, "animal_")) == derived["animal"].nunique() == 21
    # mean line values are the arm means per day
    line = next(ln for ln in ax.lines if ln.get_gid() == "mean_patient")
    y = np.asarray(line.get_ydata(), dtype=float)
    expect = derived[derived["arm"] == "patient"].groupby("study_day")["value"].mean()
    np.testing.assert_allclose(y, expect.to_numpy())
    assert ax.get_ylabel() == "Threshold (g)"
    assert ax.get_xlabel() == "Study day"
    assert list(ax.get_xticks()) == list(DAYS)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0].startswith("HC IgG (n = 9 mice, 3 donors)")
    assert labels[1].startswith("FMS IgG (n = 12 mice, 4 donors)")
    assert "Injection days" in labels
    assert "Censored (plotted at cut-off)" in labels


def test_time_course_with_one_mouse_per_arm_draws_no_error_bar():
    d = make_derived(donors={"patient": 1, "control": 1}, mice=1)
    fig = time_course(d, control="control")
    assert len(_gids(fig, "mean_")) == 2
    ET.fromstring(figure_svg(fig))


def test_time_course_without_animals_draws_only_means(derived):
    fig = time_course(derived, control="control", show_animals=False)
    assert _gids(fig, "animal_") == []
    assert len(_gids(fig, "mean_")) == 2


def test_time_course_colours_control_black_and_arms_okabe_ito(derived):
    fig = time_course(derived, control="control")
    ax = fig.axes[0]
    col = {ln.get_gid(): ln.get_color() for ln in ax.lines
           if (ln.get_gid() or "").startswith("mean_")}
    assert col["mean_control"] == style.CONTROL_COLOUR
    assert col["mean_patient"] in style.OKABE_ITO.values()


def test_time_course_stars_sit_above_the_days_given(derived):
    marks = pd.DataFrame({"study_day": [1, 3, 7, 14], "arm": ["patient"] * 4,
                          "p_adj": [0.0004, 0.003, 0.03, 0.2]})
    fig = time_course(derived, control="control", marks=marks)
    ax = fig.axes[0]
    texts = {t.get_gid(): t for t in ax.texts if (t.get_gid() or "").startswith("stars_")}
    assert set(texts) == {"stars_patient_1", "stars_patient_3", "stars_patient_7"}
    assert [texts[f"stars_patient_{d}"].get_text() for d in (1, 3, 7)] == ["***", "**", "*"]
    for d in (1, 3, 7):
        x, y = texts[f"stars_patient_{d}"].get_position()
        assert x == d
        day = derived[derived["study_day"] == d]["value"]
        assert y > day.max()  # above every animal on that day
        assert y < ax.get_ylim()[1]  # inside the axes


def test_time_course_shades_dosing_and_separates_baseline(derived):
    fig = time_course(derived, control="control", dosing_days=(0, 1, 2, 3))
    ax = fig.axes[0]
    spans = [p for p in ax.patches if p.get_gid() == "dosing"]
    assert len(spans) == 1
    x0, width = spans[0].get_x(), spans[0].get_width()
    assert x0 == pytest.approx(-0.4) and x0 + width == pytest.approx(3.4)
    sep = [ln for ln in ax.lines if ln.get_gid() == "baseline_separator"]
    assert len(sep) == 1 and -1 < sep[0].get_xdata()[0] < 0


def test_time_course_marks_censored_values_open_at_their_bound(derived):
    fig = time_course(derived, control="control")
    ax = fig.axes[0]
    cens = [ln for ln in ax.lines if (ln.get_gid() or "").startswith("censored_")]
    n_cens = int((derived["censored"] != "none").sum())
    assert n_cens >= 1
    assert sum(len(ln.get_xdata()) for ln in cens) == n_cens
    assert all(ln.get_markerfacecolor() == "white" for ln in cens)


def test_time_course_rejects_two_outcomes_and_unknown_control(derived):
    two = pd.concat([derived, derived.assign(outcome="latency_s", unit="s")])
    with pytest.raises(SchemaError, match="one outcome.*latency_s, threshold_g"):
        time_course(two, control="control")
    with pytest.raises(SchemaError, match="control arm 'vehicle' is not in the table"):
        time_course(derived, control="vehicle")
    with pytest.raises(SchemaError, match="marks lack column"):
        time_course(derived, control="control", marks=pd.DataFrame({"study_day": [1]}))
    with pytest.raises(SchemaError, match="study day.*99"):
        time_course(derived, control="control",
                    marks=pd.DataFrame({"study_day": [99], "arm": ["patient"], "p_adj": [0.01]}))


@pytest.mark.parametrize("outcome, unit, label", [
    ("threshold_g", "g", "Threshold (g)"),
    ("latency_s", "s", "Latency (s)"),
    ("fibres_per_mm", "fibres/mm", "IENFD (fibres/mm)"),
    ("force_g_per_g", "g/g", "Grip force per body weight (g/g)"),
    ("licking_time_s", "s", "Licking time (s)"),
])
def test_y_label_is_readable(outcome, unit, label):
    d = make_derived(outcome=outcome, unit=unit, cutoff=None)
    assert time_course(d, control="control").axes[0].get_ylabel() == label


# ------------------------------------------------------------------ small multiples

def _body_weights() -> pd.DataFrame:
    d = make_derived(outcome="weight_g", cutoff=None, effect=0.0)
    d["value"] = 20.0 + (d["value"] - 125.0) / 10.0  # about 17-23 g
    d["assay"] = "body_weight"
    return d


def test_time_course_y_range_follows_the_data():
    """Body weights of 17-23 g are not drawn on an axis from 0 (it flattens them);
    thresholds that come near 0 still start at 0."""
    weights = _body_weights()
    ax = time_course(weights, control="control").axes[0]
    lo, hi = ax.get_ylim()
    assert 0 < lo <= weights["value"].min() and hi >= weights["value"].max()
    assert (hi - lo) < 2 * (weights["value"].max() - weights["value"].min())
    ax = donor_small_multiples(weights, control="control").axes[0]
    assert ax.get_ylim()[0] > 0
    d = make_derived(days=(21,), outcome="weight_g", cutoff=None, effect=0.0)
    d["value"] = 20.0 + (d["value"] - 125.0) / 10.0
    assert endpoint_dots(d, control="control").axes[0].get_ylim()[0] > 0
    thresholds = make_derived(cutoff=None, effect=-100.0)  # down to about 20 g
    assert thresholds["value"].min() > 0
    assert time_course(thresholds, control="control").axes[0].get_ylim()[0] == 0


def test_small_multiples_one_panel_per_donor_patients_first(derived):
    fig = donor_small_multiples(derived, control="control")
    titles = [ax.get_title(loc="left").split()[0] for ax in fig.axes]
    assert len(fig.axes) == derived["donor"].nunique() == 7
    assert titles == ["P01", "P02", "P03", "P04", "C01", "C02", "C03"]
    # the control band in every panel, each donor's own animals in its panel
    for ax in fig.axes:
        assert sum(1 for c in ax.collections if c.get_gid() == "control_band") == 1
        assert len([ln for ln in ax.lines if (ln.get_gid() or "").startswith("animal_")]) == 3
    # shared y axis; controls start a new row
    assert fig.axes[0].get_ylim() == fig.axes[-1].get_ylim()
    rows = [ax.get_subplotspec().rowspan.start for ax in fig.axes]
    assert rows == [0, 0, 0, 0, 1, 1, 1]


def test_small_multiples_wraps_rows(derived):
    fig = donor_small_multiples(derived, control="control", ncols=2)
    rows = [ax.get_subplotspec().rowspan.start for ax in fig.axes]
    assert rows == [0, 0, 1, 1, 2, 2, 3]


# ------------------------------------------------------------------------ forest

def _effects() -> pd.DataFrame:
    return pd.DataFrame({
        "donor": ["P01", "P02", "P03", "C01", "C02"],
        "arm": ["patient"] * 3 + ["control"] * 2,
        "estimate": [-40.0, -25.0, -3.0, 2.0, np.nan],
        "ci_low": [-55.0, -38.0, -15.0, -9.0, np.nan],
        "ci_high": [-25.0, -12.0, 9.0, 13.0, np.nan],
        "responder": [True, True, False, False, False],
        "note": ["", "", "", "", "model did not converge"],
    })


def test_forest_one_row_per_donor_with_k_of_n_title():
    fig = donor_forest(_effects(), outcome_label="threshold_g", unit="g", control="control",
                       arm_labels={"patient": "FMS IgG", "control": "HC IgG"})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["P01", "P02", "P03", "C01", "C02"]
    title = fig.get_suptitle()
    assert "FMS IgG: 2 of 3 donors" in title and "HC IgG: 0 of 2 donors" in title
    # the arms head their groups, as labels the layout makes room for
    assert [t.get_text() for t in ax.get_yticklabels(minor=True)] == ["FMS IgG", "HC IgG"]
    points = {ln.get_gid(): ln for ln in ax.lines if (ln.get_gid() or "").startswith("donor_")}
    assert set(points) == {"donor_P01", "donor_P02", "donor_P03", "donor_C01"}
    assert points["donor_P01"].get_markerfacecolor() != "white"
    assert points["donor_P03"].get_markerfacecolor() == "white"
    assert points["donor_P02"].get_xdata()[0] == -25.0
    assert any(t.get_text().strip() == "model did not converge" for t in ax.texts)
    zero = [ln for ln in ax.lines if ln.get_gid() == "zero_line"]
    assert zero and zero[0].get_xdata()[0] == 0
    assert ax.get_xlabel() == "Difference from control, Threshold (g)"


def _report_figure_width_px() -> float:
    """The width the report shows a figure at (``figure svg { width: ...px }``)."""
    from importlib.resources import files

    css = (files("nocilab.report") / "templates" / "report.css").read_text()
    return float(re.search(r"(?m)^figure svg \{[^}]*?width:\s*([0-9.]+)px", css).group(1))


def _many_donors(n_patient: int = 8, n_control: int = 6) -> pd.DataFrame:
    rows = []
    for arm, k in (("patient", n_patient), ("control", n_control)):
        for j in range(k):
            rows.append({"donor": f"{arm[0].upper()}{j + 1:02d}", "arm": arm,
                         "estimate": -500.0 if arm == "patient" else 5.0, "ci_low": -950.0,
                         "ci_high": 250.0, "responder": arm == "patient"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("labels", [
    {"patient": "FMS patient IgG", "control": "Healthy-control IgG"},
    {"patient": "Fibromyalgia patient IgG, high-titre pool",
     "control": "Healthy-control IgG (pooled, commercial)"},
])
def test_forest_donor_labels_are_readable_at_the_reports_width(labels):
    """The report shows every figure at one CSS width; a figure whose labels spill past
    its width is saved wider and shown with smaller text (about 7 px before)."""
    fig = donor_forest(_many_donors(), control="control", arm_labels=labels, unit="g·day",
                       outcome_label="Paw-pressure withdrawal threshold, AUC of change from "
                                     "baseline")
    svg = ET.fromstring(figure_svg(fig, id_prefix="f"))
    view_w = float(svg.get("viewBox").split()[2])
    assert view_w <= fig.get_figwidth() * 72 + 0.5  # nothing spills past the figure's width
    scale = _report_figure_width_px() / view_w  # px on the page per SVG unit
    sizes = []
    for g in svg.iter("{http://www.w3.org/2000/svg}g"):
        if re.fullmatch(r"f-ytick_\d+", g.get("id", "")):
            for t in g.iter("{http://www.w3.org/2000/svg}text"):
                sizes.append(float(re.search(r"font-size: ([0-9.]+)px", t.get("style")).group(1)))
    assert len(sizes) >= 14 + 2  # donors and the arm headers (a wrapped one has two lines)
    assert min(sizes) * scale >= 10.0


def test_forest_rejects_missing_columns_and_non_bool_responder():
    with pytest.raises(SchemaError, match="ci_high"):
        donor_forest(_effects().drop(columns="ci_high"), outcome_label="Threshold", unit="g")
    bad = _effects().assign(responder=["yes", True, False, False, False])
    with pytest.raises(SchemaError, match="responder.*P01"):
        donor_forest(bad, outcome_label="Threshold", unit="g")


# ------------------------------------------------------------------ endpoint dots

def test_endpoint_dots_one_scatter_per_donor_and_mean_bar_per_arm():
    d = make_derived(days=(21,), outcome="fibres_per_mm", unit="fibres/mm", cutoff=None)
    for donor_style in ("shape", "colour"):
        fig = endpoint_dots(d, control="control", donor_style=donor_style)
        ax = fig.axes[0]
        scat = _gids(fig, "donor_", PathCollection)
        assert sorted(scat) == sorted(f"donor_{x}" for x in d["donor"].unique())
        n_points = sum(len(c.get_offsets()) for c in ax.collections
                       if (c.get_gid() or "").startswith("donor_"))
        assert n_points == len(d)
        means = {ln.get_gid(): ln.get_ydata()[0] for ln in ax.lines
                 if (ln.get_gid() or "").startswith("mean_")}
        exp = d.groupby("arm")["value"].mean()
        assert means["mean_control"] == pytest.approx(exp["control"])
        assert means["mean_patient"] == pytest.approx(exp["patient"])
        assert [t.get_text() for t in ax.get_xticklabels()] == ["control", "patient"]
        assert ax.get_ylabel() == "IENFD (fibres/mm)"


def test_endpoint_dots_needs_one_day(derived):
    with pytest.raises(SchemaError, match="one study day"):
        endpoint_dots(derived, control="control")


# ---------------------------------------------------------------- censoring bars

def test_censoring_bars_heights_are_percent_censored(derived):
    fig = censoring_bars(derived, control="control")
    ax = fig.axes[0]
    bars = {p.get_gid(): p.get_height() for p in ax.patches
            if (p.get_gid() or "").startswith("censored_")}
    frac = derived.assign(c=derived["censored"] != "none").groupby(["arm", "study_day"])["c"].mean()
    for (arm, day), f in frac.items():
        assert bars[f"censored_{arm}_{day}"] == pytest.approx(100 * f)


# ------------------------------------------------------------------- power curves

def _grid() -> pd.DataFrame:
    rows = []
    for m in (1, 3, 5):
        for k in (3, 4, 6, 8, 10):
            p = 1 - np.exp(-0.12 * k * (1 + 0.15 * m))
            rows.append({"donors_per_arm": k, "mice_per_donor": m, "power": p,
                         "ci_low": max(p - 0.03, 0), "ci_high": min(p + 0.03, 1)})
    return pd.DataFrame(rows)


def test_power_curves_one_line_and_band_per_mice_per_donor():
    g = _grid()
    fig = power_curves(g, target=0.8)
    ax = fig.axes[0]
    lines = {ln.get_gid(): ln for ln in ax.lines if (ln.get_gid() or "").startswith("power_")}
    assert set(lines) == {"power_1", "power_3", "power_5"}
    np.testing.assert_allclose(lines["power_3"].get_ydata(),
                               g[g.mice_per_donor == 3].sort_values("donors_per_arm")["power"])
    assert len(_gids(fig, "band_")) == 3
    target = [ln for ln in ax.lines if ln.get_gid() == "target"]
    assert target[0].get_ydata()[0] == 0.8
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    first = g[(g.mice_per_donor == 5) & (g.power >= 0.8)]["donors_per_arm"].min()
    assert any(lab.startswith("5 ") and f"80% at {first} donors" in lab for lab in labels)


def test_power_curves_checks_its_grid():
    with pytest.raises(SchemaError, match="ci_low"):
        power_curves(_grid().drop(columns="ci_low"))
    with pytest.raises(SchemaError, match="0-1"):
        power_curves(_grid().assign(power=80.0))


# ------------------------------------------------------------------ svg and files

def test_svg_is_valid_xml_with_ids_unique_between_figures(derived):
    a = figure_svg(time_course(derived, control="control"))
    b = figure_svg(time_course(derived, control="control"))
    assert a.startswith("<svg") and "<?xml" not in a and "DOCTYPE" not in a
    ids = []
    for text in (a, b):
        root = ET.fromstring(text)
        found = [el.get("id") for el in root.iter() if el.get("id")]
        assert len(found) == len(set(found))
        ids.append(set(found))
    assert ids[0] and not (ids[0] & ids[1])
    # every internal reference points at an id of the same figure
    for text, own in zip((a, b), ids, strict=True):
        refs = set(re.findall(r"url\(#([^)]+)\)", text)) | set(re.findall(r'href="#([^"]+)"', text))
        assert refs <= own
    # text stays text (editable, searchable), and the global stylesheet is scoped
    assert "<text" in a and "Study day" in a
    root_id = ET.fromstring(a).get("id")
    assert f"#{root_id} *{{" in a


def test_svg_with_fixed_prefix_is_reproducible(derived):
    a = figure_svg(time_course(derived, control="control"), id_prefix="tc")
    b = figure_svg(time_course(derived, control="control"), id_prefix="tc")
    assert a == b
    with pytest.raises(NocilabError, match="id_prefix"):
        figure_svg(time_course(derived, control="control"), id_prefix="1 bad")


def test_save_figure_writes_each_format(tmp_path, derived):
    fig = donor_forest(_effects(), outcome_label="Threshold", unit="g")
    paths = save_figure(fig, tmp_path / "sub" / "forest", formats=("png", "pdf", "svg", "tif"))
    assert [p.name for p in paths] == ["forest.png", "forest.pdf", "forest.svg", "forest.tif"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    ET.parse(paths[2])
    assert paths[3].read_bytes()[:2] in (b"II", b"MM")
    with pytest.raises(NocilabError, match="unknown figure format"):
        save_figure(fig, tmp_path / "x", formats=("jpg",))


def test_pdf_embeds_truetype_text(tmp_path, derived):
    fig = time_course(derived, control="control")
    path = save_figure(fig, tmp_path / "tc", formats=("pdf",))[0]
    data = path.read_bytes()
    assert b"/FontFile2" in data  # TrueType embedded (pdf.fonttype 42), not Type 3 outlines
    assert b"/Type3" not in data


# ------------------------------------------------------- the simulated demo study

@pytest.fixture(scope="module")
def demo_derived(tmp_path_factory) -> pd.DataFrame:
    from rich.console import Console

    from nocilab.demo.run import run_demo

    return run_demo(tmp_path_factory.mktemp("demo") / "study", console=Console(quiet=True))


@pytest.mark.slow
def test_every_demo_outcome_renders(demo_derived):
    labels = {"patient": "FMS patient IgG", "control": "Healthy-control IgG"}
    for _, sub in demo_derived.groupby(["assay", "outcome"]):
        days = sub["study_day"].unique()
        if len(days) == 1:
            fig = endpoint_dots(sub, control="control", arm_labels=labels)
            assert len(_gids(fig, "donor_", PathCollection)) == sub["donor"].nunique()
        else:
            fig = time_course(sub, control="control", arm_labels=labels)
            assert len(_gids(fig, "mean_")) == 2
            assert len(_gids(fig, "animal_")) == sub["animal"].nunique()
            fig = donor_small_multiples(sub, control="control", arm_labels=labels)
            assert len(fig.axes) == sub["donor"].nunique() == 14
        ET.fromstring(figure_svg(fig))


def test_time_course_log_axis_draws_geometric_means(derived):
    import numpy as np

    fig = time_course(derived, control="control", log_axis=True)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    line = next(x for x in ax.get_lines() if x.get_gid() == "mean_control")
    d = derived[derived["arm"] == "control"]
    v = d["value"].where(d["value"].notna(), d["bound"]).astype(float)
    gm = 10 ** np.log10(v).groupby(d["study_day"]).mean()
    assert line.get_ydata() == pytest.approx(gm.sort_index().to_numpy())
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and not any("10^" in t or "$" in t for t in labels)


def test_donor_small_multiples_log_axis_says_geometric_band(derived):
    fig = donor_small_multiples(derived, control="control", log_axis=True)
    assert all(ax.get_yscale() == "log" for ax in fig.axes)
    texts = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert any("geometric mean ×/÷ SEM" in t for t in texts)
