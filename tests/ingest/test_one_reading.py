"""The single-reading fast path checks exactly what the importer's checks do.

``check_reading`` (plain Python, for the few cells of a reading typed in at the bench)
must return what ``check_readings`` (the frame checks every import passes) returns for
the same candidates: the same rows when they pass, the same problems in the same words
when they do not. Drawn candidates mix good and bad keys and values (unknown animals,
unscheduled days, texts in numeric quantities, values beyond the cut-off, broken X/O
series, readings already stored, a series beside a stored value that disagrees with it).
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocilab.demo.run import DEMO_MAPPINGS
from nocilab.ingest import import_file
from nocilab.ingest import one_reading
from nocilab.ingest.one_reading import check_reading
from nocilab.ingest.validate import check_readings
from nocilab.model import load_study
from nocilab.store import Store


@pytest.fixture(scope="module")
def stored_study(tmp_path_factory, simulated_small):
    """The demo study with paw pressure and von Frey imported; one von Frey reading of
    M002 on day 1 lacks its last_filament (deleted), one of M003 its xo_series."""
    from nocilab.demo import write_demo_files

    folder = tmp_path_factory.mktemp("one") / "study"
    write_demo_files(simulated_small, folder)
    study = load_study(folder)
    with Store.open(study.database_url()) as store:
        for f in ("paw_pressure_wide.xlsx", "von_frey.csv"):
            import_file(folder / "raw" / f, study, store, study.mappings[DEMO_MAPPINGS[f][0]],
                        actor="tester")
        obs = store.observations(assay="von_frey")
        for animal, quantity in (("M002", "last_filament"), ("M003", "xo_series")):
            row = obs[(obs.animal == animal) & (obs.study_day == 1)
                      & (obs.quantity == quantity)].iloc[0]
            store.delete_observation(int(row.observation_id), actor="tester", reason="test")
        stored = store.observations(current_only=False)
    return study, stored


def _same(study, stored, cells, codes=None):
    fast_rows, fast_problems = check_reading(study, stored, cells, animal_codes=codes)
    rows, problems = check_readings(study, stored, pd.DataFrame(cells), animal_codes=codes)
    assert list(map(repr, fast_problems)) == list(map(repr, problems))  # NaN values alike
    pd.testing.assert_frame_equal(fast_rows, rows, check_dtype=False)
    if not rows.empty:  # numbers typed alike (texts may be object or str)
        for c in ("observation_id", "study_day", "trial", "value_num"):
            assert fast_rows[c].dtype == rows[c].dtype, c
    return fast_rows, problems


def _cell(animal, day, assay, trial, quantity, raw, **where):
    return {"animal": animal, "study_day": day, "assay": assay, "trial": trial,
            "quantity": quantity, "raw": raw, **where}


GOOD = [
    [_cell("M001", 1, "paw_pressure", 4, "force_g", "112.5")],
    [_cell("M001", 1, "paw_pressure", 4, "force_g", " 250 ", where="form, force_g")],
    [_cell("M004", -1, "von_frey", 2, "xo_series", "OOXOXOO"),
     _cell("M004", -1, "von_frey", 2, "last_filament", "7"),
     _cell("M004", -1, "von_frey", 2, "filaments_used", "5,6,7,6,7,6,7")],
    [_cell("M001", "3", "paw_pressure", "+4", "force_g", 98)],
    [_cell("M005", 1.0, "paw_pressure", 5.0, "force_g", "-0")],
]


@pytest.mark.parametrize("cells", GOOD)
def test_good_readings_take_the_fast_path_and_match_the_frame_checks(stored_study, cells):
    study, stored = stored_study
    assert one_reading._passing_rows(study, stored, cells, {}) is not None
    rows, problems = _same(study, stored, cells)
    assert problems == [] and len(rows) == len(cells)


def test_a_code_is_read_as_its_animal(stored_study):
    study, stored = stored_study
    rows, _ = _same(study, stored, [_cell("A17", 1, "paw_pressure", 4, "force_g", "90")],
                    codes={"A17": "M006"})
    assert rows["animal"].tolist() == ["M006"]


BAD = [
    [_cell("M999", 1, "paw_pressure", 4, "force_g", "90")],
    [_cell("M001", 2, "paw_pressure", 4, "force_g", "90")],  # day 2 not scheduled
    [_cell("M001", 1, "paw_pressure", 0, "force_g", "90")],
    [_cell("M001", 1, "paw_pressure", 4, "force_g", "1,5")],
    [_cell("M001", 1, "paw_pressure", 4, "force_g", "251")],  # beyond the cut-off
    [_cell("M001", 1, "paw_pressure", 4, "force_g", "-5")],
    [_cell("M001", 1, "paw_pressure", 4, "force_g", "n/a")],
    [_cell("M001", 1, "paw_pressure", 1, "force_g", "90")],  # already stored
    [_cell("M001", 1, "paw_pressure", 4, "grams", "90")],
    [_cell("M001", 1, "tail_flick", 4, "latency_s", "9")],
    [_cell("M004", -1, "von_frey", 2, "xo_series", "OOXQ"),
     _cell("M004", -1, "von_frey", 2, "last_filament", "7")],
    [_cell("M004", -1, "von_frey", 2, "xo_series", "OOXOXOO")],  # lacks last_filament
    [_cell("M002", 1, "von_frey", 1, "last_filament", "99")],  # not a filament of the set
    [_cell("M003", 1, "von_frey", 1, "xo_series", "OOXQ")],  # beside a stored filament
    [_cell("M001", 1, "paw_pressure", 4, "force_g", "90"),
     _cell("M001", 1, "paw_pressure", 4, "force_g", "91")],
]


@pytest.mark.parametrize("cells", BAD)
def test_bad_readings_get_the_frame_checks_problems(stored_study, cells):
    study, stored = stored_study
    assert one_reading._passing_rows(study, stored, cells, {}) is None
    _rows, problems = _same(study, stored, cells)
    assert problems


def test_a_stored_value_completed_by_a_new_one_passes(stored_study):
    study, stored = stored_study
    obs = stored[(stored.animal == "M002") & (stored.study_day == 1)
                 & (stored.assay == "von_frey") & stored.superseded_by.isna()
                 & ~stored.deleted]
    series = obs.loc[obs.quantity == "xo_series", "value_text"].iloc[0]
    from nocilab.assays.von_frey import load_filament_set, series_progress

    fs = load_filament_set("mouse")
    last = fs.numbers[series_progress(series, fs, method="up_down").positions[-1]]
    cells = [_cell("M002", 1, "von_frey", 1, "last_filament", last)]
    assert one_reading._passing_rows(study, stored, cells, {}) is not None
    rows, problems = _same(study, stored, cells)
    assert problems == [] and rows["value_text"].tolist() == [last]


_ANIMALS = st.sampled_from(["M001", "M004", " M005 ", "M999", "A17", 7.0, None])
_DAYS = st.sampled_from([-1, 1, "3", "+5", 2, 1.5, "x", None, 7.0])
_ASSAYS = st.sampled_from(["paw_pressure", " von_frey", "von_frey", "grip", "tail_flick"])
_TRIALS = st.sampled_from([1, 2, 4, "4", 0, -1, 2.5, None])
_QUANTITIES = st.sampled_from(["force_g", "xo_series", "last_filament", "filaments_used",
                               "grams"])
_RAWS = st.sampled_from(["112.5", "250", "251", "-5", "1,5", "abc", "", "-", "NA", "inf",
                         98, 98.5, float("nan"), "OOXOXOO", "XXXXX", "OOXQ", "7", "99",
                         "5,6,7,6,7,6,7", " 0x10", "1_000"])


@st.composite
def candidates(draw):
    """Any cells, mostly refused."""
    cells = []
    for _ in range(draw(st.integers(1, 3))):
        cell = _cell(draw(_ANIMALS), draw(_DAYS), draw(_ASSAYS), draw(_TRIALS),
                     draw(_QUANTITIES), draw(_RAWS))
        if draw(st.booleans()):
            cell["where"] = draw(st.sampled_from(["sheet, row 3", "form"]))
        cells.append(cell)
    return cells


@st.composite
def near_good(draw):
    """A reading that passes, or the same with one key or value drawn from the pools."""
    animal = draw(st.sampled_from(["M001", "M004", "M007", "M002"]))
    day = draw(st.sampled_from([-3, -1, 1, 3]))
    trial = draw(st.integers(3, 7))  # paw pressure trials 1-3 and von Frey 1 are stored
    if draw(st.booleans()):
        cells = [_cell(animal, day, "paw_pressure", trial, "force_g",
                       draw(st.sampled_from(["0", "12.5", "250", 99, 180.25])))]
    else:
        series = draw(st.sampled_from([("OOXOXOO", "7", "5,6,7,6,7,6,7"),
                                       ("XXXXX", "1", "5,4,3,2,1"), ("OOOOOO", "10", None)]))
        cells = [_cell(animal, day, "von_frey", trial, q, v)
                 for q, v in zip(("xo_series", "last_filament", "filaments_used"), series,
                                 strict=True) if v is not None]
    if draw(st.booleans()):
        i = draw(st.integers(0, len(cells) - 1))
        key, pool = draw(st.sampled_from([("animal", _ANIMALS), ("study_day", _DAYS),
                                          ("assay", _ASSAYS), ("trial", _TRIALS),
                                          ("quantity", _QUANTITIES), ("raw", _RAWS)]))
        cells[i] = {**cells[i], key: draw(pool)}
    return cells


_SETTINGS = settings(max_examples=300, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow,
                                            HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(cells=st.one_of(candidates(), near_good()))
def test_drawn_candidates_get_what_the_frame_checks_give(stored_study, cells):
    study, stored = stored_study
    _same(study, stored, cells, codes={"A17": "M006"})
