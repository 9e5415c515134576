"""Figures of nocilab.lab: what each draws, by the gids its artists carry."""

from __future__ import annotations

import io

import lab_synth as ls
import numpy as np
import pytest
from matplotlib.figure import Figure

import nocilab.lab as lab
from nocilab.errors import AnalysisError


def _gids(fig: Figure) -> set[str]:
    return {a.get_gid() for a in fig.findobj() if a.get_gid()}


def test_public_names_are_sorted_and_exist():
    assert lab.__all__ == sorted(lab.__all__)
    assert all(hasattr(lab, n) for n in lab.__all__)


def test_standard_curves_of_a_panel_plate(readouts):
    fig = lab.standard_curves_figure(readouts, "PANEL-1")
    assert [ax.get_title() for ax in fig.axes] == ["IL10", "IL6", "TNF"]
    assert {"curve_IL6", "standard_IL6", "curve_TNF"} <= _gids(fig)
    ax = fig.axes[1]
    assert ax.get_xscale() == "log"
    lines = [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    fit = readouts.fits[("PANEL-1", "IL6")]
    np.testing.assert_allclose(sorted(lines), [fit.lloq, fit.uloq])
    with pytest.raises(AnalysisError, match="no plate 'nope'"):
        lab.standard_curves_figure(readouts, "nope")


def test_serum_time_course(readouts):
    fig = lab.serum_time_course_figure(readouts, arm_labels={ls.PATIENT: "FMS IgG",
                                                             ls.CONTROL: "Healthy IgG"})
    g = _gids(fig)
    assert {f"arm_{ls.PATIENT}", f"arm_{ls.CONTROL}", "animal_M01", "dosing"} <= g
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Healthy IgG", "FMS IgG"]
    arm = next(ln for ln in ax.get_lines() if ln.get_gid() == f"arm_{ls.PATIENT}")
    s = readouts.serum
    day4 = s[(s["arm"] == ls.PATIENT) & (s["study_day"] == 4)]["concentration"]
    assert arm.get_ydata()[list(arm.get_xdata()).index(4)] == pytest.approx(
        float(np.exp(np.log(day4).mean())), rel=1e-12)


def test_exposure_response_panels_per_arm(readouts):
    fig = lab.exposure_response_figure(readouts, "paw_pressure.force_g")
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert len(axes) == 2
    assert axes[1].get_title().startswith(f"{ls.PATIENT}\nwithin: -2")
    assert {"donor_PatDonorA", "donor_CtlDonorF"} <= _gids(fig)
    with pytest.raises(AnalysisError, match="no exposure-response points for x.y"):
        lab.exposure_response_figure(readouts, "x.y")


def test_forest_binding_and_correlation(readouts):
    forest = lab.cytokine_forest_figure(readouts)
    assert {"analyte_IL6", "analyte_TNF", "analyte_IL10"} <= _gids(forest)
    b = lab.binding_figure(readouts)
    assert {f"donor_{d}" for d in ls.PAT_DONORS + ls.CTL_DONORS} <= _gids(b)
    c = lab.correlation_figure(readouts, "binding_score", "pain_nrs")
    assert {f"donor_{d}" for d in ls.PAT_DONORS} <= _gids(c)
    assert c.axes[0].get_title().startswith("Spearman rho = ")
    with pytest.raises(AnalysisError, match="no correlation of binding_score with age"):
        lab.correlation_figure(readouts, "binding_score", "age")


def test_lab_figures_all_render(readouts):
    figs = lab.lab_figures(readouts)
    assert len([k for k in figs if k.startswith("lab_curves_")]) == 13
    assert len([k for k in figs if k.startswith("correlation_")]) == 4
    for name, fig in figs.items():
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        assert buf.tell() > 1000, name
