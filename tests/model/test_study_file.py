"""Loading study.toml: the example loads, and every class of problem is reported with its
key path and value, all at once."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from _study_data import base

from nocilab.errors import Problem, StudyFileError
from nocilab.model import load_study
from nocilab.model.settings import ASSAY_SETTINGS, PawPressureSettings, VonFreySettings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "study.toml"


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(StudyFileError) as info:
        load_study(path)
    assert info.value.source == str(path.resolve())
    return info.value.problems


def one_problem(path: Path) -> Problem:
    problems = problems_of(path)
    assert len(problems) == 1, problems
    return problems[0]


def find(problems: list[Problem], where: str) -> Problem:
    hits = [p for p in problems if p.where == where]
    assert hits, f"no problem at {where!r} in {[str(p) for p in problems]}"
    return hits[0]


# -- valid files --------------------------------------------------------------------------


def test_example_file_loads():
    study = load_study(EXAMPLE)
    assert study.path == EXAMPLE
    assert study.folder == EXAMPLE.parent
    assert study.sha256 == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert study.control_arm == "control"
    assert study.arm_ids == ("patient", "control")
    assert study.animal_ids == ("M01", "M02")
    assert study.dosing.days == (0, 1, 2, 3)
    assert set(study.schedule) == {"paw_pressure", "von_frey", "body_weight"}
    assert isinstance(study.assays["von_frey"], VonFreySettings)
    assert study.mappings["pp_wide"].match_column("D-3_t2") == (-3, 2)
    assert study.mappings["pp_long"].quantities == {"force_g": "Force (g)"}


def test_folder_is_accepted(write_study):
    path = write_study(base())
    assert load_study(path.parent).path == path.resolve()


def test_base_study_values(write_study):
    study = load_study(write_study(base()))
    # schedule days sorted, assays: configured + defaults for scheduled ones
    assert study.schedule["paw_pressure"] == (-3, -1, 1, 3, 7)
    assert study.assays["paw_pressure"] == PawPressureSettings(cutoff_g=300.0)
    assert study.assays["body_weight"] == ASSAY_SETTINGS["body_weight"]()
    # arms resolved from donors, given, or required for vehicle
    assert [p.arm for p in study.preparations] == ["patient", "control", "patient", "vehicle"]
    # integer cage taken as text; label defaults to the id
    assert study.animal("M05").cage == "3"
    assert study.donor("P01").clinical == {
        "pain_intensity": 7.5, "fiq_total": 68, "diagnosis_year": "2015",
    }


def test_models_are_frozen(write_study):
    study = load_study(write_study(base()))
    with pytest.raises(Exception):  # noqa: B017 - pydantic's ValidationError for frozen
        study.animals[0].cage = "Z"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        study.info = None  # type: ignore[misc]


# -- reading the file ---------------------------------------------------------------------


def test_missing_file(tmp_path):
    p = one_problem(tmp_path / "nope.toml")
    assert p.where == "file" and "no such file" in p.why


def test_folder_without_study_file(tmp_path):
    with pytest.raises(StudyFileError) as info:
        load_study(tmp_path)
    assert info.value.source == str(tmp_path.resolve() / "study.toml")


def test_toml_syntax_error_has_line_and_column(write_study):
    path = write_study('[study]\nid = "x"\ntitle = "unterminated\n')
    p = one_problem(path)
    assert p.where == "line 3, column 22"  # just past the last character
    assert p.why.startswith("TOML syntax: ")


def test_toml_syntax_error_at_end_of_document(write_study):
    p = one_problem(write_study("[study]\nid = "))
    assert p.where == "end of file" and "Invalid value" in p.why


def test_not_utf8(write_study, tmp_path):
    path = tmp_path / "study.toml"
    path.write_bytes(b'[study]\nid = "caf\xe9"\n')
    p = one_problem(path)
    assert p.where == "byte 17" and "UTF-8" in p.why


def test_error_message_names_file_and_every_problem(write_study):
    data = base()
    data["animals"][0]["weight_g"] = -1
    data["donors"][0]["arm"] = "nobody"
    path = write_study(data)
    with pytest.raises(StudyFileError) as info:
        load_study(path)
    text = info.value.render()
    assert text.startswith(f"{path.resolve()}: 2 problems in the study file")
    assert "animals[M01].weight_g: expected a number greater than 0 (found -1)" in text
    assert "donors[P01].arm: unknown arm; expected one of patient, control, vehicle" in text


# -- each class of problem ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "where", "why", "value"),
    [
        # missing and unknown keys, wrong types
        (lambda d: d["study"].pop("title"), "study.title", "missing required key", None),
        (lambda d: d["animals"][2].update(colour="brown"), "animals[M03].colour",
         "unknown key; expected one of id, preparation, sex", "brown"),
        (lambda d: d["donors"][1].update(age="old"), "donors[P02].age", "expected a number",
         "old"),
        (lambda d: d["arms"][0].update(control="yes"), "arms[patient].control",
         "expected true or false", "yes"),
        (lambda d: d["animals"][1].update(sex="female"), "animals[M02].sex",
         "expected 'F' or 'M'", "female"),
        (lambda d: d["animals"][1].update(strain=6), "animals[M02].strain",
         "expected text", 6),
        (lambda d: d["preparations"][0].update(concentration_mg_ml=-2),
         "preparations[IgG-P01].concentration_mg_ml", "at least 0", -2),
        (lambda d: d["donors"][0]["clinical"].update(scores=[1, 2]),
         "donors[P01].clinical.scores", "expected true or false or a whole number", [1, 2]),
        (lambda d: d["study"].update(start_date="soon"), "study.start_date",
         "expected a date", "soon"),
        # animals: age and weight
        (lambda d: d["animals"][1].update(birth_date=d["animals"][0]["birth_date"]),
         "animals[M02].age_weeks", "give birth_date or age_weeks, not both", 10),
        (lambda d: d["animals"][1].pop("age_weeks"), "animals[M02].birth_date",
         "missing: give birth_date or age_weeks", None),
        (lambda d: d["animals"][1].update(weight_g=0), "animals[M02].weight_g",
         "greater than 0", 0),
        (lambda d: d["study"].update(start_date=d["animals"][0]["birth_date"].replace(year=2025,
                                                                                    month=1)),
         "animals[M01].birth_date", "after the study start date 2025-01-22",
         dt.date(2025, 12, 22)),
        # references
        (lambda d: d["donors"][3].update(arm="healthy"), "donors[C01].arm",
         "unknown arm; expected one of patient, control, vehicle", "healthy"),
        (lambda d: d["preparations"][2]["donors"].append("P99"), "preparations[pool-P].donors",
         "unknown donor; expected one of P01, P02, P03, C01", "P99"),
        (lambda d: d["animals"][0].update(preparation="IgG-P77"), "animals[M01].preparation",
         "unknown preparation", "IgG-P77"),
        (lambda d: d["preparations"][2]["donors"].append("C01"), "preparations[pool-P].donors",
         "pooled donors come from different arms (P02: patient, P03: patient, C01: control)",
         ["P02", "P03", "C01"]),
        (lambda d: d["preparations"][2].update(arm="control"), "preparations[pool-P].arm",
         "differs from the arm of its donor(s) (P02: patient, P03: patient)", "control"),
        (lambda d: d["preparations"][3].pop("arm"), "preparations[saline].arm",
         "missing: required when a preparation has no donors", None),
        (lambda d: d["preparations"][0].pop("concentration_mg_ml"),
         "preparations[IgG-P01].concentration_mg_ml", "required for IgG from donors", None),
        (lambda d: d["preparations"][0]["donors"].append("P01"), "preparations[IgG-P01].donors",
         "lists a donor more than once", ["P01", "P01"]),
        # control arm
        (lambda d: d["arms"][1].pop("control"), "arms", "no control arm", None),
        (lambda d: d["arms"][0].update(control=True), "arms", "several control arms",
         ["patient", "control"]),
        # dosing
        (lambda d: d["dosing"].update(days=[0, 1.5, 2]), "dosing.days[1]",
         "expected a whole number", 1.5),
        (lambda d: d["dosing"].update(days=[0, 1, 1]), "dosing.days",
         "days listed more than once: [1]", [0, 1, 1]),
        (lambda d: d["dosing"].update(days=[1, 2]), "dosing.days",
         "the earliest dosing day is 1", [1, 2]),
        (lambda d: d.update(dosing=[d["dosing"], d["dosing"]]), "dosing",
         "one regimen for all preparations is supported", None),
        # schedule
        (lambda d: d["schedule"].update(paw_pressure=[-1, 1, 1]), "schedule.paw_pressure",
         "day 1 is listed 2 times", 1),
        (lambda d: d["schedule"].update(body_weight=[-1, "7"]), "schedule.body_weight[1]",
         "expected a whole number", "7"),
        (lambda d: d["schedule"].update(tail_flick=[1]), "schedule.tail_flick",
         "unknown assay; known assays: " + ", ".join(ASSAY_SETTINGS), None),
        # assays
        (lambda d: d["assays"].update(tail_flick={}), "assays.tail_flick",
         "unknown assay; known assays: " + ", ".join(ASSAY_SETTINGS), None),
        (lambda d: d["assays"]["paw_pressure"].update(trials=0), "assays.paw_pressure.trials",
         "greater than 0", 0),
        (lambda d: d["assays"]["paw_pressure"].update(cutof_g=250), "assays.paw_pressure.cutof_g",
         "unknown key; expected one of cutoff_g, trials", 250),
        (lambda d: d["assays"].update(von_frey={"filaments": "kit.csv"}),
         "assays.von_frey.filaments", "no filament file at", "kit.csv"),
        # mappings
        (lambda d: d["mappings"]["pp_wide"].pop("columns"), "mappings.pp_wide.columns",
         "missing: required for layout 'wide'", None),
        (lambda d: d["mappings"]["pp_wide"].update(columns="D{day}_{rep}"),
         "mappings.pp_wide.columns", "unknown placeholder {rep}", "D{day}_{rep}"),
        (lambda d: d["mappings"]["pp_long"].update(layout="tall"), "mappings.pp_long.layout",
         "expected 'long' or 'wide'", "tall"),
        (lambda d: d["mappings"]["pp_long"].update(assay="tail_flick"),
         "mappings.pp_long.assay", "unknown assay", "tail_flick"),
        # top level
        (lambda d: d.update(animal=[]), "animal", "unknown table; expected study, arms", None),
        (lambda d: d.pop("dosing"), "dosing", "missing required table [dosing]", None),
        (lambda d: d.update(arms={"id": "x"}), "arms", "expected an array of tables", None),
    ],
)
def test_each_problem_is_located(write_study, change, where, why, value):
    data = base()
    change(data)
    problems = problems_of(write_study(data))
    p = find(problems, where)
    assert why in p.why
    assert p.value == value


@pytest.mark.parametrize("section", ["arms", "donors", "preparations", "animals"])
def test_duplicate_ids(write_study, section):
    data = base()
    data[section].append(dict(data[section][0]))
    if section == "arms":
        data[section][-1].pop("control", None)
    problems = problems_of(write_study(data))
    n = len(data[section]) - 1
    p = find(problems, f"{section}[{n}].id")
    assert p.why == f"duplicate id; first used at {section}[0]"
    assert p.value == data[section][0]["id"]


def test_one_bad_record_is_not_reported_again_by_its_references(write_study):
    data = base()
    data["preparations"][0]["volume_ul"] = "lots"  # invalid, but its id is known
    data["donors"][0]["age"] = -3
    problems = problems_of(write_study(data))
    assert [p.where for p in problems] == [
        "donors[P01].age", "preparations[IgG-P01].volume_ul",
    ]


def test_numeric_ids_are_quoted_in_key_paths(write_study):
    data = base()
    data["animals"][0]["id"] = 17
    data["animals"][0]["cage"] = [1]
    p = one_problem(write_study(data))
    assert p.where == 'animals["17"].cage'


def test_many_problems_are_reported_at_once(write_study):
    text = """
[study]
id = "many"
title = "Many problems"
species = "mouse"
colour = "blue"

[[arms]]
id = "patient"

[[arms]]
id = "control"

[[donors]]
id = "P01"
arm = "patiënt"

[[preparations]]
id = "IgG-P01"
donors = ["P01", "P02"]
concentration_mg_ml = 20.0

[dosing]
amount_mg = 8
route = "i.p."
days = [0, 1, 2.5]

[[animals]]
id = "M01"
preparation = "IgG-X"
sex = "F"
strain = "C57BL/6J"
cage = "A"
age_weeks = 10
birth_date = 2026-01-01
weight_g = 0

[[animals]]
id = "M01"
sex = "F"
strain = "C57BL/6J"
cage = "B"
age_weeks = 9

[schedule]
paw_pressure = [-1, 1, 1]
tail_flick = [1]

[assays.von_frey]
filaments = "filaments/kit.csv"
"""
    problems = problems_of(write_study(text))
    expected = {
        "study.colour": "unknown key",
        "donors[P01].arm": "unknown arm",
        "preparations[IgG-P01].donors": "unknown donor",
        "dosing.days[2]": "expected a whole number",
        "animals[0].age_weeks": "not both",
        "animals[0].weight_g": "greater than 0",
        "animals[0].preparation": "unknown preparation",
        "animals[1].id": "duplicate id",
        "arms": "no control arm",
        "schedule.paw_pressure": "listed 2 times",
        "schedule.tail_flick": "unknown assay",
        "assays.von_frey.filaments": "no filament file",
    }
    for where, why in expected.items():
        assert why in find(problems, where).why
    # nothing else: the invalid first M01 is checked for its own references, and nothing
    # that refers to an invalid record is reported again (no cascade)
    assert len(problems) == len(expected), [str(p) for p in problems]


def test_references_of_an_invalid_record_are_reported_with_its_type_errors(write_study):
    data = base()
    data["animals"][0]["weight_g"] = "heavy"          # a type error ...
    data["animals"][0]["preparation"] = "IgG-P99"     # ... and an unknown preparation
    data["donors"][1]["age"] = "old"
    data["donors"][1]["arm"] = "patiënt"
    data["preparations"][2]["volume_ul"] = -1
    data["preparations"][2]["donors"] = ["P02", "P09"]
    data["preparations"][3]["arm"] = [1]             # a bad key is reported once, as a type
    data["preparations"][3]["volume_ul"] = "a lot"
    problems = problems_of(write_study(data))
    got = {p.where: p for p in problems}
    assert set(got) == {
        "animals[M01].weight_g", "animals[M01].preparation",
        "donors[P02].age", "donors[P02].arm",
        "preparations[pool-P].volume_ul", "preparations[pool-P].donors",
        "preparations[saline].arm", "preparations[saline].volume_ul",
    }, [str(p) for p in problems]
    assert got["animals[M01].preparation"].why.startswith("unknown preparation; expected one of")
    assert got["animals[M01].preparation"].value == "IgG-P99"
    assert got["donors[P02].arm"].value == "patiënt"
    assert got["preparations[pool-P].donors"].value == "P09"
    assert "unknown" not in got["preparations[saline].arm"].why


# -- files referred to --------------------------------------------------------------------


def test_relative_filament_csv_is_resolved_against_the_study_folder(
    write_study, tmp_path, monkeypatch
):
    (tmp_path / "kits").mkdir()
    csv = tmp_path / "kits" / "our_kit.csv"
    csv.write_text("number,log\n3.61,3.61\n3.84,3.84\n", encoding="utf-8")
    data = base()
    data["assays"]["von_frey"] = {"filaments": "kits/our_kit.csv"}
    path = write_study(data)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the working directory must not matter
    study = load_study(path)
    assert study.assays["von_frey"].filaments == str(csv.resolve())


def test_absolute_filament_csv_and_builtin_sets(write_study, tmp_path):
    csv = tmp_path / "kit.csv"
    csv.write_text("number,log\n", encoding="utf-8")
    data = base()
    data["assays"]["von_frey"] = {"filaments": str(csv)}
    assert load_study(write_study(data)).assays["von_frey"].filaments == str(csv.resolve())
    data["assays"]["von_frey"] = {"filaments": "rat"}
    assert load_study(write_study(data)).assays["von_frey"].filaments == "rat"


def test_missing_filament_csv_names_the_resolved_path(write_study, tmp_path):
    data = base()
    data["assays"]["von_frey"] = {"filaments": "kits/none.csv"}
    p = one_problem(write_study(data))
    assert str(tmp_path.resolve() / "kits" / "none.csv") in p.why
    assert "'mouse', 'rat'" in p.why


def test_reporting_table_is_optional_and_validated(tmp_path):
    from nocilab.errors import StudyFileError
    from nocilab.model import load_study

    text = (Path(__file__).resolve().parents[2] / "examples" / "study.toml").read_text()
    study = load_study(Path(__file__).resolve().parents[2] / "examples" / "study.toml")
    assert study.reporting.randomisation.startswith("nocilab allocate")
    bad = tmp_path / "study.toml"
    bad.write_text(text.replace('housing = "', 'housign = "'))
    with pytest.raises(StudyFileError) as info:
        load_study(bad)
    assert any(p.where == "reporting.housign" for p in info.value.problems)
