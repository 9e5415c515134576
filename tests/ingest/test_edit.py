"""Corrections and deletions pass exactly the checks an import applies, and a refused
change leaves the store as it was; derive names bad stored readings by observation id."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocilab.cli import main
from nocilab.demo.run import DEMO_MAPPINGS
from nocilab.derive import derive_table
from nocilab.errors import ReadingProblems, StoredReadingProblems
from nocilab.ingest import build_mapping, import_file
from nocilab.ingest.edit import correct_reading, delete_readings
from nocilab.ingest.validate import validate_readings
from nocilab.model import load_study
from nocilab.store import Store


def _import(study_dir: Path, *files: str):
    study = load_study(study_dir)
    store = Store.open(study.database_url())
    for f in files:
        import_file(study_dir / "raw" / f, study, store,
                    study.mappings[DEMO_MAPPINGS[f][0]], actor="tester")
    return study, store


def _one(store: Store, assay: str, quantity: str) -> pd.Series:
    obs = store.observations(assay=assay)
    return obs[obs["quantity"] == quantity].iloc[0]


def _state(store: Store) -> tuple[int, int]:
    return len(store.observations(current_only=False)), len(store.audit_events())


def _refused(study, store, oid, value) -> ReadingProblems:
    before = _state(store)
    with pytest.raises(ReadingProblems) as info:
        correct_reading(study, store, oid, value, reason="typo", actor="tester")
    assert _state(store) == before  # no observation, no audit event written
    return info.value


@pytest.fixture
def pp_vf(study_dir):
    study, store = _import(study_dir, "paw_pressure_wide.xlsx", "von_frey.csv")
    with store:
        yield study, store


def test_text_in_a_numeric_reading_is_refused_and_derive_still_works(pp_vf):
    study, store = pp_vf
    force = _one(store, "paw_pressure", "force_g")
    err = _refused(study, store, int(force.observation_id), "abc")
    (p,) = err.problems
    assert p.why == "force_g must be a number" and p.value == "abc"
    assert p.where.startswith(f"observation {int(force.observation_id)} (animal {force.animal}, "
                              f"day {force.study_day}, paw_pressure force_g, trial {force.trial})")
    assert "nothing was written" in err.render()
    assert not derive_table(study, store).empty


def test_decimal_comma_gets_the_same_hint_as_in_an_import(pp_vf):
    study, store = pp_vf
    force = _one(store, "paw_pressure", "force_g")
    (p,) = _refused(study, store, int(force.observation_id), "12,5").problems
    assert "decimal separator" in p.why


def test_force_above_the_cutoff_is_refused(pp_vf):
    study, store = pp_vf
    force = _one(store, "paw_pressure", "force_g")
    (p,) = _refused(study, store, int(force.observation_id), "300").problems
    assert "above the cut-off of 250 g" in p.why and p.value == 300.0


def test_a_force_at_the_cutoff_is_accepted_as_a_number(pp_vf):
    study, store = pp_vf
    force = _one(store, "paw_pressure", "force_g")
    new = correct_reading(study, store, int(force.observation_id), "250", reason="misread",
                          actor="tester")
    row = store.observations().set_index("observation_id").loc[new]
    assert row["value_num"] == 250.0 and pd.isna(row["value_text"])
    derived = derive_table(study, store)
    hit = derived[(derived.assay == "paw_pressure") & (derived.animal == force.animal)
                  & (derived.study_day == force.study_day)]
    assert hit["censored"].tolist() == ["right"]


def test_series_with_other_letters_than_x_and_o_is_refused(pp_vf):
    study, store = pp_vf
    series = _one(store, "von_frey", "xo_series")
    (p,) = _refused(study, store, int(series.observation_id), "OXYOO").problems
    assert "only X (withdrawal) and O (no withdrawal)" in p.why


def test_last_filament_outside_the_set_is_refused_and_a_good_one_is_stored_as_text(pp_vf):
    study, store = pp_vf
    last = _one(store, "von_frey", "last_filament")
    (p,) = _refused(study, store, int(last.observation_id), "99").problems
    assert "not a filament of set 'mouse'" in p.why
    other = "6" if last.value_text != "6" else "5"
    new = correct_reading(study, store, int(last.observation_id), other, reason="misread",
                          actor="tester")
    row = store.observations().set_index("observation_id").loc[new]
    assert row["value_text"] == other and pd.isna(row["value_num"])
    assert not derive_table(study, store).empty


def _vf_with_filaments(study_dir: Path, tmp_path: Path):
    """A von Frey reading with its filaments recorded: start 5, O -> 6, O -> 7, X -> 6."""
    path = tmp_path / "vf_used.csv"
    path.write_text('animal,study_day,trial,xo_series,last_filament,filaments_used\n'
                    'M001,-3,1,OOXO,6,"5,6,7,6"\n')
    study = load_study(study_dir)
    store = Store.open(study.database_url())
    mapping = build_mapping(layout="long", assay="von_frey", animal="animal", day="study_day",
                            trial="trial", quantity=["xo_series", "last_filament",
                                                     "filaments_used"],
                            columns=None, sheet=None, skip_rows=0)
    import_file(path, study, store, mapping, actor="tester")
    ids = store.observations().set_index("quantity")["observation_id"].astype(int).to_dict()
    return study, store, ids


def test_correcting_a_series_is_checked_with_the_filaments_stored_beside_it(study_dir, tmp_path):
    study, store, ids = _vf_with_filaments(study_dir, tmp_path)
    with store:
        # after the corrected X at filament 6 the next must be 5, but 7 is stored
        (p,) = _refused(study, store, ids["xo_series"], "OXXO").problems
        assert p.where.startswith(f"observation {ids['filaments_used']} ")
        assert "the up-down rule gives 5" in p.why
        assert f"the new xo_series at observation {ids['xo_series']}" in p.why
        # a sequence that breaks the rule itself
        problems = _refused(study, store, ids["filaments_used"], "5,6,7,8").problems
        assert any("the up-down rule gives 6" in q.why and "found 8" in q.why for q in problems)


def test_deleting_half_a_reading_is_refused_deleting_it_whole_is_not(study_dir, tmp_path):
    study, store, ids = _vf_with_filaments(study_dir, tmp_path)
    with store:
        before = _state(store)
        with pytest.raises(ReadingProblems) as info:
            delete_readings(study, store, [ids["last_filament"]], reason="excluded",
                            actor="tester")
        assert _state(store) == before
        assert any("would leave this reading incomplete" in p.why for p in info.value.problems)
        tombs = delete_readings(study, store, list(ids.values()), reason="animal excluded",
                                actor="tester")
        assert len(tombs) == 3 and store.observations().empty
        assert store.verify_audit().ok


def test_deletion_needs_a_current_reading_and_a_reason(pp_vf):
    study, store = pp_vf
    force = int(_one(store, "paw_pressure", "force_g").observation_id)
    new = correct_reading(study, store, force, "111", reason="typo", actor="tester")
    before = _state(store)
    with pytest.raises(ReadingProblems) as info:
        delete_readings(study, store, [force, 999_999], reason="  ", actor="tester")
    assert _state(store) == before
    whys = [p.why for p in info.value.problems]
    assert f"it was already corrected: its current version is observation {new}" in whys[0]
    assert "there is no observation 999999" in whys
    with pytest.raises(ReadingProblems) as info:
        delete_readings(study, store, [new], reason=" ", actor="tester")
    assert "a reason is required" in info.value.problems[0].why
    assert _state(store) == before


def test_validate_readings_lists_every_problem_of_mixed_changes(pp_vf):
    study, store = pp_vf
    force = _one(store, "paw_pressure", "force_g")
    series = _one(store, "von_frey", "xo_series")
    candidates = pd.DataFrame([
        {"action": "insert", "animal": "M999", "study_day": -3, "assay": "paw_pressure",
         "trial": 9, "quantity": "force_g", "raw": "120", "where": "form row 1"},
        {"action": "insert", "animal": force.animal, "study_day": 2, "assay": "paw_pressure",
         "trial": 9, "quantity": "force_g", "raw": "120", "where": "form row 2"},
        {"action": "insert", "animal": force.animal, "study_day": int(force.study_day),
         "assay": "paw_pressure", "trial": int(force.trial), "quantity": "force_g",
         "raw": "130", "where": "form row 3"},
        {"action": "correct", "observation_id": int(force.observation_id), "raw": "abc",
         "reason": "typo", "where": "form row 4"},
        {"action": "correct", "observation_id": int(series.observation_id), "raw": "OXZ",
         "reason": "typo", "where": "form row 5"},
        {"action": "delete", "observation_id": 123_456, "reason": "gone", "where": "form row 6"},
        {"action": "rename", "where": "form row 7"},
    ])
    with pytest.raises(ReadingProblems) as info:
        validate_readings(study, store.observations(current_only=False), candidates,
                          source="the form")
    got = {p.where: p.why for p in info.value.problems}
    assert "unknown animal" in got["form row 1"]
    assert "day 2 is not in the schedule of paw_pressure" in got["form row 2"]
    assert "already in the store" in got["form row 3"]
    assert "force_g must be a number" in got["form row 4"]
    assert "only X (withdrawal) and O" in got["form row 5"]
    assert "there is no observation 123456" in got["form row 6"]
    assert "action must be one of insert, correct, delete" in got["form row 7"]


def test_a_correction_that_changes_nothing_is_refused(pp_vf):
    study, store = pp_vf
    force = _one(store, "paw_pressure", "force_g")
    (p,) = _refused(study, store, int(force.observation_id), str(force.value_num)).problems
    assert "does not change" in p.why


def test_derive_names_bad_stored_readings_by_observation_id(pp_vf):
    """A store written before corrections were checked (through the store's own primitive,
    which knows no study) must give a clear message, not an AttributeError."""
    study, store = pp_vf
    obs = store.observations(assay="paw_pressure")
    a, b = obs.iloc[0], obs.iloc[1]
    bad_text = store.correct_observation(int(a.observation_id), value_text="abc", actor="old",
                                         reason="written before values were checked")
    bad_cut = store.correct_observation(int(b.observation_id), value_num=300.0, actor="old",
                                        reason="written before values were checked")
    with pytest.raises(StoredReadingProblems) as info:
        derive_table(study, store)
    text = info.value.render()
    assert f"observation {bad_text} (animal {a.animal}, day {a.study_day}, paw_pressure " \
           f"force_g, trial {a.trial}): force is not a number (found 'abc')" in text
    assert f"observation {bad_cut} (animal {b.animal}, day {b.study_day}, paw_pressure " \
           f"force_g, trial {b.trial}): force is above the cut-off" in text
    assert "row " not in text and "nocilab correct" in text


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(x) for x in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_correct_refuses_bad_values_and_derive_still_runs(study_dir, tmp_path, capsys):
    study, store = _import(study_dir, "paw_pressure_wide.xlsx")
    with store:
        oid = int(_one(store, "paw_pressure", "force_g").observation_id)
        before = _state(store)
    for value in ("abc", "300"):
        code, _, err = run(capsys, "correct", study_dir, oid, "--value", value, "--reason", "x")
        assert code == 3 and "Traceback" not in err and f"observation {oid}" in err
    with Store.open(study.database_url()) as store:
        assert _state(store) == before
    code, out, err = run(capsys, "derive", study_dir, "--out", tmp_path / "d.csv")
    assert code == 0, err
    code, out, _ = run(capsys, "delete", study_dir, oid, "--reason", "animal excluded")
    assert code == 0 and f"observation {oid} deleted" in out


_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-1000, 1000).map(str),
    st.text(alphabet="0123456789.,-+eEinfaOX ", max_size=8),
    st.text(max_size=6),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(force=_VALUES, series=st.text(alphabet="XOxo Y-", max_size=9))
def test_any_correction_is_refused_cleanly_or_keeps_the_study_derivable(study_dir, force,
                                                                       series):
    study, store = _import(study_dir, "paw_pressure_wide.xlsx", "von_frey.csv")
    try:
        targets = [(int(_one(store, "paw_pressure", "force_g").observation_id), force),
                   (int(_one(store, "von_frey", "xo_series").observation_id), series)]
        for oid, value in targets:
            before = _state(store)
            try:
                correct_reading(study, store, oid, value, reason="fuzz", actor="tester")
            except ReadingProblems as exc:
                assert _state(store) == before
                assert exc.problems and "nothing was written" in exc.render()
        derived = derive_table(study, store)  # never an AttributeError, never a refusal
        assert set(derived["assay"]) == {"paw_pressure", "von_frey"}
    finally:  # the study folder is shared by the examples: start each from an empty store
        store.close()
        (study_dir / "nocilab.sqlite").unlink()
