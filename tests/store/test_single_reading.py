"""One reading added by hand takes a plain-Python path that stores what the frame path
stores, and refuses what it refuses in the same words."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from nocilab.errors import SchemaError, StoreError
from nocilab.store import Store, _observations

BASE = {"animal": "m01", "study_day": -1, "assay": "grip", "trial": 1, "quantity": "force_g",
        "value_num": 88.5, "value_text": None, "entered_by": None, "entered_at": None}


def _frame_columns(**values):
    v = {**BASE, **values}
    frame = pd.DataFrame([{**v, "value_num": np.nan if v["value_num"] is None
                           else v["value_num"]}])
    return _observations._reading_columns(frame, source="the observation")


PLAIN = [
    {}, {"value_num": 0}, {"value_num": -0.0}, {"value_num": 2**53},
    {"value_num": None, "value_text": "OOXOXO"}, {"value_text": ""},
    {"animal": " m01 ", "study_day": 0, "trial": 12},
    {"entered_by": "jk", "entered_at": " 2026-01-05T10:00:00+00:00 "}, {"entered_by": ""},
    {"entered_at": "  "},
]


@pytest.mark.parametrize("values", PLAIN)
def test_plain_values_give_the_frame_paths_columns(values):
    plain = _observations._plain_reading(**{**BASE, **values})
    assert plain is not None
    frame = _frame_columns(**values)
    assert plain == frame
    for col, vs in plain.items():  # same types too (-0.0 stays -0.0)
        assert [type(v) for v in vs] == [type(v) for v in frame[col]], col
        assert [math.copysign(1, v) if isinstance(v, float) else v for v in vs] == \
            [math.copysign(1, v) if isinstance(v, float) else v for v in frame[col]]


NOT_PLAIN = [
    {"animal": 3}, {"animal": None}, {"animal": "  "}, {"assay": ""}, {"quantity": None},
    {"study_day": 1.5}, {"study_day": True}, {"study_day": "3"}, {"study_day": np.int64(3)},
    {"trial": None}, {"value_num": "12"}, {"value_num": True}, {"value_num": math.inf},
    {"value_num": math.nan}, {"value_num": np.float64(1.5)}, {"value_num": 2**53 + 1},
    {"value_num": None}, {"value_text": 5}, {"entered_by": 7},
    {"entered_at": dt.datetime(2026, 1, 5, 10, 0)}, {"entered_at": 5},
]


@pytest.mark.parametrize("values", NOT_PLAIN)
def test_other_values_are_left_to_the_frame_path(values):
    assert _observations._plain_reading(**{**BASE, **values}) is None


def _error(store, **values):
    v = {**BASE, **values}
    try:
        store.add_observation(v["animal"], v["study_day"], v["assay"], v["trial"],
                              v["quantity"], value_num=v["value_num"],
                              value_text=v["value_text"], entered_by=v["entered_by"],
                              entered_at=v["entered_at"], actor="cy")
    except (SchemaError, StoreError) as exc:
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize("values", NOT_PLAIN)
def test_refusals_are_worded_by_the_frame_checks(tmp_path, values):
    with Store.open(tmp_path / "s.sqlite") as store:
        got = _error(store, **values)
        try:
            _frame_columns(**values)
        except SchemaError as exc:
            assert got == (SchemaError, str(exc))
        else:  # accepted by the frame checks too (a NumPy number, a datetime ...)
            assert got is None
        assert store.verify_audit().ok


def test_a_reading_added_by_hand_is_stored_and_audited_as_given(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as store:
        oid = store.add_observation("m01", -1, "grip", 2, "force_g", value_num=90,
                                    actor="cy", entered_by="jk",
                                    entered_at="2026-01-05T10:00:00+00:00")
        row = store.observations().set_index("observation_id").loc[oid]
        assert (row.value_num, row.entered_by, row.entered_at) == (
            90.0, "jk", "2026-01-05T10:00:00+00:00")
        with pytest.raises(StoreError, match="already stored"):
            store.add_observation("m01", -1, "grip", 2, "force_g", value_num=91.0,
                                  actor="cy")
        events = store.audit_events(entity="observation")
        assert len(events) == 1 and '"value_num":90.0' in events["after"].iloc[0]
        assert store.verify_audit().ok
