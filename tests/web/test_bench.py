"""nocilab.bench: sessions, progress and readings entered by hand, without the web."""

from __future__ import annotations

import datetime as dt
import threading

import pandas as pd
import pytest
from _web_study import FAST_KDF, PASSPHRASE, write_study

from nocilab import bench
from nocilab.design.blinding import allocate_study
from nocilab.errors import DesignError, ReadingProblems, ReadingAlreadyStored
from nocilab.store import Store

VF = {"xo_series": "OOXOXOO", "last_filament": "7", "filaments_used": "5,6,7,6,7,6,7"}


@pytest.fixture
def blinded(tmp_path):
    study = write_study(tmp_path / "s")
    store = Store.open(study.database_url())
    allocate_study(study, store, passphrase=PASSPHRASE, actor="pi", seed=5, kdf_n=FAST_KDF)
    yield study, store
    store.close()


def test_entry_forms_follow_the_study_settings(blinded):
    study, _ = blinded
    vf = bench.entry_form("von_frey", study.assay_settings("von_frey"))
    assert (vf.kind, vf.method, vf.quantities) == ("series", "up_down",
                                                   ("xo_series", "last_filament"))
    pp = bench.entry_form("paw_pressure", study.assay_settings("paw_pressure"))
    assert (pp.trials, pp.cutoff, pp.fields[0].quantity) == (3, 250.0, "force_g")
    from nocilab.model.settings import ASSAY_SETTINGS

    for assay, model in ASSAY_SETTINGS.items():  # every assay has a form
        form = bench.entry_form(assay, model())
        assert form.trials >= 1 and form.quantities


def test_progress_counts_done_partial_and_missing(blinded):
    study, store = blinded
    pp = bench.session_animals(study, store, "paw_pressure", -1)
    for trial, value in ((1, "101"), (2, "99"), (3, "104")):
        bench.enter_reading(study, store, code=pp[0].code, assay="paw_pressure", study_day=-1,
                            trial=trial, values={"force_g": value}, actor="jk",
                            token=f"{trial}" * 32)
    bench.enter_reading(study, store, code=pp[1].code, assay="paw_pressure", study_day=-1,
                        trial=1, values={"force_g": "88"}, actor="jk", token="9" * 32)
    progress = bench.schedule_progress(study, store, today=dt.date(2026, 1, 5))
    row = progress[(progress.assay == "paw_pressure") & (progress.study_day == -1)].iloc[0]
    assert (row.n_done, row.n_partial, row.n_missing, row.late) == (1, 1, 6, True)
    later = progress[(progress.assay == "paw_pressure") & (progress.study_day == 2)].iloc[0]
    assert (later.n_done, later.date, later.late) == (0, "2026-01-07", False)
    status = {a.code: a.status for a in bench.session_animals(study, store, "paw_pressure", -1)}
    assert status[pp[0].code] == "done" and status[pp[1].code] == "partial"
    assert list(progress.study_day) == sorted(progress.study_day)


def test_entering_needs_an_allocated_study_and_a_scheduled_session(tmp_path):
    study = write_study(tmp_path / "s")
    with Store.open(study.database_url()) as store:
        with pytest.raises(DesignError, match="not allocated yet"):
            bench.session_animals(study, store, "von_frey", -1)
        assert bench.schedule_progress(study, store)["n_done"].sum() == 0
        with pytest.raises(DesignError, match="not in the schedule"):
            bench.session_animals(study, store, "von_frey", 3)


def test_every_bad_value_is_listed_and_nothing_is_written(blinded):
    study, store = blinded
    code = bench.session_animals(study, store, "von_frey", -1)[0].code
    bad = dict(VF, filaments_used="5,6,7,7,7,6,7")
    with pytest.raises(ReadingProblems) as err:
        bench.enter_reading(study, store, code=code, assay="von_frey", study_day=-1, trial=1,
                            values=bad, actor="jk", token="a" * 32)
    assert "the up-down rule gives" in err.value.render()
    with pytest.raises(ReadingProblems, match="no last_filament entered"):
        bench.enter_reading(study, store, code=code, assay="von_frey", study_day=-1, trial=1,
                            values={"xo_series": "OX"}, actor="jk", token="b" * 32)
    with pytest.raises(ReadingProblems, match="trial must be 1 to 1"):
        bench.enter_reading(study, store, code=code, assay="von_frey", study_day=-1, trial=2,
                            values=VF, actor="jk", token="c" * 32)
    with pytest.raises(DesignError, match="no animal with the code"):
        bench.enter_reading(study, store, code="M01", assay="von_frey", study_day=-1,
                            trial=1, values=VF, actor="jk", token="d" * 32)
    assert store.observations().empty and store.imports().empty


def test_two_forms_racing_for_one_reading_store_it_once(blinded):
    """Two people submit the same reading at once (different forms): one is stored, the
    other is refused as already stored; a form sent twice at once is stored once."""
    study, store = blinded
    code = bench.session_animals(study, store, "von_frey", 2)[0].code
    results: list[object] = []
    barrier = threading.Barrier(4)

    def send(token: str) -> None:
        barrier.wait()
        try:
            results.append(bench.enter_reading(study, store, code=code, assay="von_frey",
                                               study_day=2, trial=1, values=VF, actor="jk",
                                               token=token))
        except ReadingAlreadyStored as exc:
            results.append(exc)

    threads = [threading.Thread(target=send, args=(t,)) for t in ("e" * 32, "e" * 32,
                                                                  "f" * 32, "f" * 32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = [r for r in results if isinstance(r, bench.EntryResult)]
    refused = [r for r in results if isinstance(r, ReadingAlreadyStored)]
    assert len(results) == 4 and len(store.observations()) == 3
    assert sum(not r.already_saved for r in stored) == 1
    assert all(r.observation_ids.keys() == {"xo_series", "last_filament", "filaments_used"}
               for r in refused)
    assert len(store.imports()) == 1 and store.verify_audit().ok


def test_a_new_allocation_gives_the_new_codes_at_once(blinded):
    """Codes are read once per allocation run; a forced re-allocation replaces them."""
    study, store = blinded
    before = {a.code for a in bench.session_animals(study, store, "von_frey", -1)}
    assert before == {a.code for a in bench.session_animals(study, store, "von_frey", -1)}
    allocate_study(study, store, passphrase=PASSPHRASE, actor="pi", seed=6, kdf_n=FAST_KDF,
                   force=True, reason="cages mixed up")
    after = {a.code for a in bench.session_animals(study, store, "von_frey", -1)}
    assert len(after) == len(before) == 8 and after != before
    with pytest.raises(DesignError, match="no animal with the code"):
        bench.session_animal(study, store, "von_frey", -1, sorted(before - after)[0])


def _derived_rows(study, store, assay, day, code):
    """The animal's rows of the derived table (every reading derived, codes attached)."""
    from nocilab.derive import derive_observations
    from nocilab.design.blinding import assignments

    animal = bench._animal_of(study, bench._roster(study, store), code)
    derived = derive_observations(store.observations(), study,
                                  assignments=assignments(study, store, reveal=False))
    rows = derived[(derived.animal == animal) & (derived.assay == assay)
                   & (derived.study_day == day)]
    return rows[["outcome", "value", "unit", "censored", "bound", "n_trials", "note"]
                ].reset_index(drop=True)


def test_the_values_shown_are_the_derived_tables(tmp_path):
    """An animal's day and each series alone, derived from its own readings only, equal
    its rows of the whole derived table (grip per body weight too)."""
    from _web_study import study_data

    data = study_data()
    data["schedule"].update({"grip": [-1, 2], "body_weight": [-1, 2]})
    data["assays"]["grip"] = {"per_body_weight": True, "trials": 2}
    data["assays"]["von_frey"]["trials"] = 2
    study = write_study(tmp_path / "s", data)
    with Store.open(study.database_url()) as store:
        allocate_study(study, store, passphrase=PASSPHRASE, actor="pi", seed=5,
                       kdf_n=FAST_KDF)
        codes = [a.code for a in bench.session_animals(study, store, "von_frey", -1)]
        entries = [("paw_pressure", -1, 1, {"force_g": "101"}),
                   ("paw_pressure", -1, 2, {"force_g": "250"}),  # at the cut-off
                   ("von_frey", -1, 1, VF),
                   ("von_frey", -1, 2, {"xo_series": "XXXXX", "last_filament": "1"}),
                   ("body_weight", -1, 1, {"weight_g": "20.5"}),
                   ("grip", -1, 1, {"force_g": "95"}), ("grip", 2, 1, {"force_g": "80"})]
        for k, (assay, day, trial, values) in enumerate(entries):
            for code in codes[:2]:
                bench.enter_reading(study, store, code=code, assay=assay, study_day=day,
                                    trial=trial, values=values, actor="jk",
                                    token=f"{k}{code}".ljust(32, "0"))
        for assay, day in (("paw_pressure", -1), ("von_frey", -1), ("grip", -1), ("grip", 2),
                           ("body_weight", -1), ("paw_pressure", 2)):
            for code in codes[:3]:
                expected = _derived_rows(study, store, assay, day, code)
                view = bench.animal_session(study, store, assay, day, code)
                assert view.animal == bench.session_animal(study, store, assay, day, code)
                assert view.animals == bench.session_animals(study, store, assay, day)
                for shown in (bench.reading_value(study, store, assay, day, code)["day"],
                              view.day_value):
                    assert len(shown) == len(expected)
                    if len(expected):
                        pd.testing.assert_frame_equal(shown, expected, check_dtype=False)
                series = view.animal.readings if assay == "von_frey" else {}
                alone = bench.trial_values(study, assay, day, series)
                assert view.trial_values.keys() == alone.keys()
                for trial, frame in alone.items():
                    pd.testing.assert_frame_equal(view.trial_values[trial], frame)
        animal = bench.session_animal(study, store, "von_frey", -1, codes[0])
        alone = bench.trial_values(study, "von_frey", -1, animal.readings)
        assert sorted(alone) == [1, 2]
        for trial, values in animal.readings.items():
            one = bench.reading_value(study, store, "von_frey", -1, codes[0],
                                      values=values)["trial"]
            pd.testing.assert_frame_equal(alone[trial], one)
        assert alone[1]["value"].iloc[0] != alone[2]["value"].iloc[0]
