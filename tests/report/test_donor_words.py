"""The report's words on donors: counts per class, the prediction limit named for the
direction, and what chance explains among control donors."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from nocilab.report import donor_words
from nocilab.stats.donors import DEMO_CALIBRATION, donor_effects


def _result(direction: str) -> SimpleNamespace:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(12):
        arm = "control" if i < 6 else "patient"
        shift = -8.0 if arm == "patient" and i < 10 else 0.0
        for j in range(3):
            v = rng.normal(shift, 2.0)
            rows += [(f"M{i}{j}", f"D{i:02d}", arm, -1, 0.0), (f"M{i}{j}", f"D{i:02d}", arm, 1, v)]
    frame = pd.DataFrame(rows, columns=["animal", "donor", "arm", "study_day", "value"])
    eff = donor_effects(frame, value="value", arm="arm", day="study_day", animal="animal",
                        donor="donor", control="control", baseline_days=[-1],
                        direction=direction)
    return SimpleNamespace(donors=eff, control="control")


def test_key_sentence_counts_classes_and_names_the_limit():
    res = _result("decrease")
    labels = {"patient": "Patient IgG", "control": "Control IgG"}
    text = donor_words.key_sentence(res, labels)
    aff = res.donors.affected().set_index("arm")
    p = aff.loc["patient"]
    assert (f"Patient IgG: {p.n_clearly} clearly, {p.n_possibly} possibly, {p.n_not} not "
            "affected of 6 donors") in text
    assert "one-sided 95% prediction bound" in text and "80% bound only" in text
    assert "By chance alone 0.3 of the 6 control donors" in text
    assert "does not show that a donor has no effect" in text
    assert p.n_clearly >= 4  # four donors shifted by 4 SDs of a mouse
    two = donor_words.key_sentence(_result("either"), labels)
    assert "outside the control donors' two-sided 95% prediction interval" in two
    assert "80% interval only" in two


def test_lead_sentence_sums_the_control_donor_calls():
    a, b = _result("decrease"), _result("either")
    text = donor_words.lead_sentence([a, b], "control")
    k = sum(int(r.donors.affected().set_index("arm").loc["control", "n_clearly"]) for r in (a, b))
    assert f"were called clearly affected {k} times in 12 classifications" in text
    assert "chance alone gives about 0.6" in text
    assert "not a measure of how patients differ" in text


def test_methods_quote_the_stored_calibration():
    text = donor_words.methods_paragraph(window="from day 1 to day 14", posttest="Sidak")
    assert f"{100 * DEMO_CALIBRATION.control_clearly:.1f}%" in text
    assert f"{100 * DEMO_CALIBRATION.sensitivity_clearly:.1f}%" in text
    assert "70% von Frey" in text and "from day 1 to day 14" in text
