"""Planning from a pilot study: the pilot is read without unblinding it."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from _allocation_study import (
    FAST_KDF,
    PASSPHRASE,
    SECRET_IDS,
    baseline_rows,
    study_data,
    write_study,
)

from nocilab.design.blinding import allocate_study, assignments, unblind
from nocilab.design.planning import pilot_table, pilot_variance
from nocilab.store import Store


def _post_rows(key: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Paw-pressure readings on days 1 and 3: lower in the patient arm, donors differ."""
    rng = np.random.default_rng(seed)
    donor_shift = {d: rng.normal(0, 6) for d in key["preparation"].unique()}
    rows = []
    for r in key.itertuples():
        effect = -25.0 if r.arm == "armFMS" else 0.0
        animal_shift = rng.normal(0, 4)
        for day in (1, 3):
            for t in (1, 2, 3):
                rows.append({"animal": r.animal, "study_day": day, "assay": "paw_pressure",
                             "trial": t, "quantity": "force_g",
                             "value_num": 120 + effect + donor_shift[r.preparation]
                             + animal_shift + rng.normal(0, 5), "value_text": None})
    return pd.DataFrame(rows)


def _import(store, rows: pd.DataFrame, name: str) -> None:
    digest = hashlib.sha256(rows.to_csv().encode()).hexdigest()
    store.import_observations(rows, file_name=name, file_sha256=digest, actor="tech")


@pytest.fixture
def blinded_pilot(tmp_path):
    # no vehicle arm: blinded, its animals would share their vial code as a donor (see
    # pilot_table), which is another model than the unblinded one's
    data = study_data(28)
    data["arms"] = [a for a in data["arms"] if a["id"] != "armVEH"]
    data["preparations"] = [p for p in data["preparations"] if p["id"] != "prpVEH"]
    study = write_study(tmp_path / "pilot", data)
    with Store.open(study.database_url()) as store:
        _import(store, baseline_rows(list(study.animal_ids)), "baseline.csv")
        allocate_study(study, store, passphrase=PASSPHRASE, actor="allocator", kdf_n=FAST_KDF,
                       seed=5)
        key = assignments(study, store, reveal=True)  # the test knows; the table must not
        _import(store, _post_rows(key, seed=2), "post.csv")
    return study


def test_a_blinded_pilot_gives_the_components_of_the_unblinded_one(blinded_pilot):
    study = blinded_pilot
    with Store.open(study.database_url()) as store:
        derived, how = pilot_table(study, store)
        assert "blinded" in how
        shown = derived.to_csv(index=False)
        assert not [s for s in SECRET_IDS if s in shown]
        blind = pilot_variance(study, derived, outcome="paw_pressure.threshold_g")
        unblind(study, store, passphrase=PASSPHRASE, reason="compare", actor="pi")
        derived_open, how_open = pilot_table(study, store)
        assert how_open == ""
        opened = pilot_variance(study, derived_open, outcome="paw_pressure.threshold_g")
    # the same grouping of animals into arms and donors: the same likelihood maximum; the
    # components agree as far as the optimiser pins them down on a flat likelihood (the
    # codes order the donors differently): within 1% of the residual SD, rho within 0.01
    assert blind.loglik == pytest.approx(opened.loglik, abs=1e-6)
    tol = 0.01 * opened.variance.sd_residual
    for name in ("sd_donor", "sd_animal", "sd_residual"):
        assert getattr(blind.variance, name) == pytest.approx(getattr(opened.variance, name),
                                                              abs=tol)
    assert blind.variance.rho == pytest.approx(opened.variance.rho, abs=0.01)
    assert blind.n_donors == opened.n_donors and blind.n_animals == opened.n_animals


def test_a_pilot_with_censored_values_carries_its_bounds(blinded_pilot):
    from pathlib import Path

    ref = Path(__file__).resolve().parents[1] / "stats" / "reference" / "censored.csv"
    derived = pd.read_csv(ref).assign(assay="cold_plate", outcome="latency_s")
    derived["censored"] = derived["censored"].fillna("none")
    pilot = pilot_variance(blinded_pilot, derived, outcome="cold_plate.latency_s")
    assert pilot.bounds == (None, 30.0)
    share = (derived["censored"] == "right").mean()
    assert pilot.censored_fraction == pytest.approx(share) and share > 0
    assert "censored (at upper 30)" in pilot.note
    assert pilot.variance.sd_level > 0
    uncensored = derived[derived["censored"] == "none"]
    assert pilot_variance(blinded_pilot, uncensored, outcome="cold_plate.latency_s").bounds is None
