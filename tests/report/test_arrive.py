from pathlib import Path

from nocilab.model import load_study
from nocilab.report.arrive import arrive_checklist

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "study.toml"


def test_example_study_documents_every_item_it_can():
    study = load_study(EXAMPLE)
    table = arrive_checklist(study, statistics="linear mixed model ...")
    assert list(table["item"]) == list(range(1, 11))
    status = dict(zip(table["item"], table["status"]))
    # the example fills [reporting]; results are missing without derived values
    assert status[4] == "documented" and status[5] == "documented"
    assert status[10] == "missing"
    assert "control arm control" in table.loc[0, "evidence"]


def test_missing_reporting_items_are_named(study_dir):
    study = load_study(study_dir)  # the simulated study has no randomisation or blinding text
    table = arrive_checklist(study).set_index("item")
    assert table.loc[4, "status"] == "missing" and "nocilab allocate" in table.loc[4, "missing"]
    assert table.loc[5, "status"] == "missing"
    assert table.loc[7, "status"] == "missing"
    assert table.loc[2, "status"] == "documented"  # the simulated study states its sample size
    assert "patient: 8 animals, 8 donor units" in table.loc[2, "evidence"]


def test_animals_of_one_age_read_as_one_age(study_dir):
    study = load_study(study_dir)
    assert set(study.animal_table()["age_weeks"]) == {10.0}  # every simulated mouse is 10 weeks
    evidence = arrive_checklist(study).set_index("item").loc[8, "evidence"]
    assert "age 10 weeks" in evidence and "10-10" not in evidence, evidence


def test_procedures_show_settings_as_values_not_python(study_dir):
    evidence = arrive_checklist(load_study(study_dir)).set_index("item").loc[9, "evidence"]
    assert "=False" not in evidence and "=True" not in evidence and "250.0" not in evidence
    assert "cutoff_g=250" in evidence and "per_body_weight=no" in evidence
