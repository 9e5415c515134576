"""ImportMapping: layouts, column patterns and their errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nocilab.model import ImportMapping, pattern_regex, problems_from_validation_error


def wide(columns: str, **kw) -> ImportMapping:
    return ImportMapping(
        layout="wide", assay="paw_pressure", quantity="force_g", columns=columns, **kw
    )


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("D{day}_t{trial}", "D1_t1", (1, 1)),
        ("D{day}_t{trial}", "D-3_t2", (-3, 2)),
        ("D{day}_t{trial}", "D14_t10", (14, 10)),
        ("D{day}_t{trial}", " D7_t3 ", (7, 3)),  # surrounding spaces of a header cell
        ("D{day}_t{trial}", "D\u22123_t1", (-3, 1)),  # the minus sign of some spreadsheets
        ("D{day}_t{trial}", "D01_t02", (1, 2)),
        ("D{day}_t{trial}", "D1", None),
        ("D{day}_t{trial}", "D1_t", None),
        ("D{day}_t{trial}", "D1_t1x", None),
        ("D{day}_t{trial}", "xD1_t1", None),
        ("D{day}_t{trial}", "d1_t1", None),  # case matters
        ("D{day}_t{trial}", "D1.5_t1", None),
        ("D{day}_t{trial}", "D-_t1", None),
        ("Day {day}", "Day 3", (3, 1)),  # no {trial}: trial 1
        ("Day {day}", "Day -1", (-1, 1)),
        ("Day {day}", "Day 3 ", (3, 1)),
        ("Day {day}", "Day  3", None),
        ("Day {day}", "Mouse", None),
        ("t{trial} (day {day})", "t2 (day -7)", (-7, 2)),  # literal regex characters
        ("{day}.{trial}", "3.1", (3, 1)),
        ("{day}.{trial}", "3x1", None),  # '.' is literal, not "any character"
        ("[{day}]{{x}}", "[5]{x}", (5, 1)),  # doubled braces are literal braces
    ],
)
def test_match_column(pattern, name, expected):
    assert wide(pattern).match_column(name) == expected


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("D_t{trial}", "has no {day} placeholder"),
        ("D{day}_{rep}", "unknown placeholder {rep}"),
        ("D{day}_{day}", "appears twice"),
        ("D{day:02d}", "unknown placeholder"),
        ("D{day", "bad pattern"),
        ("D{day}}", "bad pattern"),
    ],
)
def test_bad_patterns(pattern, why):
    with pytest.raises(ValueError, match=why.replace("{", r"\{").replace("}", r"\}")):
        pattern_regex(pattern)


def test_long_mapping_defaults():
    m = ImportMapping(layout="long")
    assert (m.animal, m.day, m.trial) == ("animal", "study_day", None)
    assert (m.skip_rows, m.sheet, m.quantities, m.ignore_columns) == (0, None, {}, ())
    with pytest.raises(ValueError, match="needs a wide mapping"):
        m.match_column("D1")


def test_mappings_are_frozen_and_compare_by_value():
    a, b = wide("D{day}"), wide("D{day}")
    assert a == b
    with pytest.raises(ValidationError):
        a.columns = "x"  # type: ignore[misc]


def problems(data: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        ImportMapping.model_validate(data)
    found = problems_from_validation_error(
        info.value, data=data, prefix="mappings.m", model=ImportMapping
    )
    return {p.where: p.why for p in found}


def test_wide_needs_assay_quantity_and_columns():
    assert problems({"layout": "wide"}) == {
        "mappings.m.assay": "missing: required for layout 'wide'",
    }  # a model validator stops at its first rule; the study-file validator lists all


def test_layout_specific_keys_and_types():
    found = problems({"layout": "long", "quantity": "force_g", "skip_rows": -1, "sheet": 1.5,
                      "quantities": {"force_g": 3}})
    assert found == {
        "mappings.m.skip_rows": "expected a number of at least 0",
        "mappings.m.sheet": "expected text (a quoted string) or a whole number",
        "mappings.m.quantities.force_g": "expected text (a quoted string)",
    }
    assert problems({"layout": "long", "columns": "D{day}", "quantities": {"f": "F"}}) == {
        "mappings.m.columns": "only for layout 'wide'",
    }


def test_record_rules_list_every_broken_rule():
    given = {"layout": "wide", "day": "Day", "columns": "D{rep}"}
    assert [key for key, _ in ImportMapping.record_rules(given)] == [
        "assay", "quantity", "day", "columns",
    ]


def test_sheet_may_be_a_name_or_a_position():
    assert wide("D{day}", sheet="pp").sheet == "pp"
    assert wide("D{day}", sheet=0).sheet == 0
