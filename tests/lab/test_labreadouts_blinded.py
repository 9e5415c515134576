"""A blinded run names no real arm, donor or preparation: every table, note, reason,
methods paragraph and figure of nocilab.lab is searched for the study's real ids."""

from __future__ import annotations

import dataclasses
import io

import lab_synth as ls
import numpy as np
import pandas as pd
import pytest

from nocilab.lab import (
    BLINDED_CORRELATIONS,
    lab_derived_rows,
    lab_figures,
    lab_methods,
    lab_readouts,
    lab_tables,
)

REAL = ("fms_igg", "healthy_igg", "FMS IgG", "Healthy IgG", "PatDonor", "CtlDonor",
        "PrepPat", "PrepCtl")


def _leaks(text: str) -> list[str]:
    low = text.lower()
    return [r for r in REAL if r.lower() in low]


def _texts(readouts) -> dict[str, str]:
    out = {}
    for name, t in lab_tables(readouts).items():
        out[f"table {name}"] = t.to_csv(index=False)
    for f in dataclasses.fields(readouts):
        v = getattr(readouts, f.name)
        if isinstance(v, pd.DataFrame):
            out[f"field {f.name}"] = v.to_csv(index=False)
        elif isinstance(v, str | tuple):
            out[f"field {f.name}"] = str(v)
    out["reasons"] = repr(dict(readouts.reasons))
    out["notes"] = repr(dict(readouts.notes))
    for (plate, analyte), fit in readouts.fits.items():
        out[f"fit {plate} {analyte}"] = fit.samples.to_csv() + fit.standards.to_csv()
    for name in ("exposure", "cytokines", "binding"):
        res = getattr(readouts, name)
        for f in dataclasses.fields(res):
            v = getattr(res, f.name)
            out[f"{name}.{f.name}"] = v.to_csv() if isinstance(v, pd.DataFrame) else repr(v)
    out["panel"] = readouts.cytokines.panel.table.to_csv() + readouts.cytokines.panel.methods()
    out["binding methods"] = readouts.binding.methods()
    return out


def test_the_blinded_readouts_are_computed_on_codes(blinded_readouts):
    r = blinded_readouts
    assert r.blinded and r.control == "group K"
    assert dict(r.reasons) == {"correlations": BLINDED_CORRELATIONS}
    assert r.correlations is None
    assert set(r.serum["arm"]) == {"group K", "group Q"}
    assert set(r.binding.donors["donor"]) == set(ls.blind_codes()[ls.prep_of(d)]
                                                 for d in ls.PAT_DONORS + ls.CTL_DONORS)
    assert set(r.exposure.fits["arm"]) == {"group K", "group Q"}
    assert set(r.cytokines.panel.table["arm"]) == {"group Q"}


def test_the_blinded_analysis_gives_the_open_numbers(blinded_readouts, readouts):
    # same data, coded labels: the same half-lives, slopes and binding scores
    np.testing.assert_allclose(blinded_readouts.clearance.animals["half_life_days"],
                               readouts.clearance.animals["half_life_days"], rtol=1e-12)
    fb = blinded_readouts.exposure.fits.set_index(["arm", "term"])["estimate"]
    fo = readouts.exposure.fits.set_index(["arm", "term"])["estimate"]
    assert fb[("group Q", "within")] == pytest.approx(fo[(ls.PATIENT, "within")], rel=1e-9)
    np.testing.assert_allclose(
        np.sort(blinded_readouts.binding.donors["binding_score"].to_numpy()),
        np.sort(readouts.binding.donors["binding_score"].to_numpy()), rtol=1e-12)


def test_no_table_note_or_text_names_a_real_arm_donor_or_preparation(blinded_readouts,
                                                                     lab_study):
    texts = _texts(blinded_readouts)
    texts["methods"] = "\n".join(lab_methods(blinded_readouts, lab_study))
    leaks = {k: _leaks(v) for k, v in texts.items() if _leaks(v)}
    assert leaks == {}
    assert "correlations need the donors' identities" in texts["methods"]


def test_no_figure_names_a_real_arm_donor_or_preparation(blinded_readouts):
    figs = lab_figures(blinded_readouts)
    assert {"serum_igg_time_course", "exposure_response_paw_pressure.force_g",
            "cytokine_forest", "binding_scores"} <= set(figs)
    assert not any(k.startswith("correlation_") for k in figs)
    for name, fig in figs.items():
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        assert _leaks(buf.getvalue()) == [], name
    svg = io.StringIO()
    figs["binding_scores"].savefig(svg, format="svg")
    assert "V-0007" in svg.getvalue() or "V-0008" in svg.getvalue()  # codes are shown


def test_derived_rows_carry_codes(lab_study, lab_wells):
    d = lab_derived_rows(lab_study, lab_wells, None, None, ls.assign_blinded())
    assert _leaks(d.to_csv()) == []
    assert set(d["arm"]) == {"group K", "group Q"}
    assert set(d["donor"]) == set(d["preparation"])


def test_an_image_stained_with_a_real_preparation_id_is_left_out_unnamed(lab_study,
                                                                          lab_wells,
                                                                          lab_behaviour):
    cells, images = ls.cells(blinded=True)
    images = pd.concat([images, pd.DataFrame({"image": ["img999"], "vial": ["PrepPatA"]})])
    cells = pd.concat([cells, cells[cells["image"] == "img001"].assign(image="img999")])
    r = lab_readouts(lab_study, lab_wells, cells, images, ls.blind_frame(lab_behaviour),
                     ls.assign_blinded(), control="group K", blinded=True)
    assert r.binding is not None
    note = " ".join(r.notes["binding"])
    assert "1 image(s) left out (img999): their vial codes are not those of this allocation" \
        in note
    assert _leaks(repr(dict(r.notes))) == []
    assert "img999" not in set(r.binding.images["image"])


def test_the_search_finds_real_ids_in_an_open_run(readouts):
    # the same search on the open readouts finds every kind of id: it can fail
    found = set()
    for v in _texts(readouts).values():
        found.update(_leaks(v))
    assert {"fms_igg", "healthy_igg", "PatDonor", "CtlDonor", "PrepPat", "PrepCtl"} <= found
