"""The command line as a user meets it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from nocilab.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "study"
    assert main(["demo", "--out", str(out)]) == 0
    return out


def test_demo_writes_a_complete_study(demo_dir):
    for name in ("study.toml", "nocilab.sqlite", "derived.csv", "raw/von_frey.csv"):
        assert (demo_dir / name).is_file(), name
    derived = pd.read_csv(demo_dir / "derived.csv")
    assert set(derived["assay"]) == {"paw_pressure", "cold_plate", "von_frey", "grip", "activity",
                                     "body_weight", "ienfd", "serum_igg", "clearance",
                                     "cytokines"}
    assert derived["animal"].nunique() == 42
    assert derived["donor"].nunique() == 14
    # the simulated patient IgG lowers paw-pressure thresholds after injection
    pp = derived[derived.assay == "paw_pressure"]
    m = pp.groupby(["arm", pp.study_day > 0])["value"].mean()
    assert m[("patient", True)] < 0.85 * m[("patient", False)]
    assert m[("control", True)] > 0.95 * m[("control", False)]
    # the demo ends with the report, whose provenance records the simulation seed
    assert (demo_dir / "report" / "report.html").is_file()
    prov = pd.read_csv(demo_dir / "report" / "results" / "provenance.csv").set_index("item")
    assert prov.loc["seed", "value"] == "simulation 20210701"
    affected = pd.read_csv(demo_dir / "report" / "results" / "affected_donors.csv")
    pp = affected[(affected.assay == "paw_pressure")].set_index("arm")
    # every simulated patient donor lowers paw pressure; control donors are compared
    # each with the others, and at 5% at most one of six is expected to be called affected
    assert pp.loc["patient", "n_clearly"] >= 7 and pp.loc["control", "n_clearly"] <= 1


def test_demo_refuses_to_overwrite(demo_dir, capsys):
    code, _, err = run(capsys, "demo", "--out", demo_dir)
    assert code != 0 and "--force" in err and "Traceback" not in err


def test_demo_never_replaces_a_folder_that_is_not_a_demo(tmp_path, capsys):
    (tmp_path / "study.toml").write_text('[study]\nid = "my-real-study"\n')
    code, _, err = run(capsys, "demo", "--out", tmp_path, "--force")
    assert code != 0 and "does not hold a nocilab demo study" in err
    assert (tmp_path / "study.toml").read_text().startswith("[study]")


def test_check_and_audit_verify(demo_dir, capsys):
    code, out, _ = run(capsys, "check", demo_dir)
    assert code == 0 and "valid" in out
    code, out, _ = run(capsys, "audit", "verify", demo_dir)
    assert code == 0 and "intact" in out
    from nocilab.model import load_study
    from nocilab.store import Store

    study = load_study(demo_dir)
    with Store.open(study.database_url(), create=False) as store:
        head = store.verify_audit().head_hash
    assert head in out.replace("\n", "")


def test_derive_command_matches_library(demo_dir, tmp_path, capsys):
    out = tmp_path / "d.csv"
    code, _, _ = run(capsys, "derive", demo_dir, "--out", out)
    assert code == 0
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(demo_dir / "derived.csv"))


def test_bad_import_exits_nonzero_without_traceback(demo_dir, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("animal,study_day,trial,latency_s\nM001,1,1,fast\nM404,1,1,10\n")
    code, out, err = run(capsys, "import", demo_dir, bad, "--assay", "cold_plate",
                         "-q", "latency_s", "--trial", "trial")
    assert code == 3
    assert "Traceback" not in err + out
    assert "row 2, column 'latency_s'" in err and "row 3, column 'animal'" in err


def test_tampered_database_fails_verify(tmp_path, capsys, simulated_small):
    from nocilab.demo import write_demo_files

    folder = tmp_path / "s"
    write_demo_files(simulated_small, folder)
    code, _, _ = run(capsys, "import", folder, folder / "raw" / "cold_plate.csv",
                     "--mapping", "cold_plate_long")
    assert code == 0
    con = sqlite3.connect(folder / "nocilab.sqlite")
    con.execute("UPDATE audit_events SET actor = 'mallory' WHERE id = 5")
    con.commit()
    con.close()
    code, out, err = run(capsys, "audit", "verify", folder)
    assert code == 6 and "event 5" in err


def test_correction_keeps_history(tmp_path, capsys, simulated_small):
    from nocilab.demo import write_demo_files

    folder = tmp_path / "s"
    write_demo_files(simulated_small, folder)
    assert run(capsys, "import", folder, folder / "raw" / "grip.csv", "--mapping", "grip_long")[0] == 0
    obs_file = tmp_path / "obs.csv"
    assert run(capsys, "observations", folder, "--out", obs_file)[0] == 0
    first = pd.read_csv(obs_file).iloc[0]
    code, out, _ = run(capsys, "correct", folder, int(first.observation_id), "--value", "99.5",
                       "--reason", "misread the display", "--by", "alice")
    assert code == 0
    code, out, _ = run(capsys, "history", folder, int(first.observation_id))
    assert code == 0 and "99.5" in out and f"{first.value_num:g}" in out
    assert "misread" in out and "alice" in out and "correct" in out
    for raw in ("None", "NaN", "<NA>", "nan"):  # a table for people, not a data-frame dump
        assert raw not in out, raw
    assert run(capsys, "audit", "verify", folder)[0] == 0
    code, out, _ = run(capsys, "audit", "log", folder, "--last", "5")
    assert code == 0 and "misread" in out
    for raw in ("None", "NaN", "<NA>"):
        assert raw not in out, raw


def test_demo_summary_fits_80_columns(tmp_path):
    import io

    from rich.console import Console

    from nocilab.demo import run_demo

    buf = io.StringIO()
    run_demo(tmp_path / "d", console=Console(file=buf, width=80), analyze=False)
    text = buf.getvalue()
    table = text[text.index("Derived values"):text.index("laboratory values")]
    assert "…" not in table  # nothing cut
    for outcome in ("paw_pressure", "von_frey", "cold_plate", "body_weight", "ienfd", "grip"):
        assert outcome in table
    assert "serum_igg" not in table and "cytokines" not in table  # counted after it
    lab = text[text.index("laboratory values"):text.index("imported; audit chain")]
    for assay in ("serum_igg", "clearance", "cytokines"):
        assert assay in lab


def test_derive_counts_outcomes_per_assay(demo_dir, tmp_path, capsys):
    code, out, _ = run(capsys, "derive", demo_dir, "--out", tmp_path / "d.csv")
    derived = pd.read_csv(tmp_path / "d.csv")
    assert code == 0
    assert f"({len(derived[['assay', 'outcome']].drop_duplicates())} outcomes" in out
    # seven behavioural outcomes, serum human IgG, the half-life and six cytokines
    assert "(15 outcomes" in out


def test_unknown_study_file_is_a_clear_error(tmp_path, capsys):
    code, out, err = run(capsys, "check", tmp_path / "nowhere")
    assert code != 0 and "Traceback" not in err and "nowhere" in err


def test_init_writes_the_example_study(tmp_path, capsys):
    from nocilab.model import load_study

    code, out, _ = run(capsys, "init", tmp_path / "new")
    assert code == 0
    example = Path(__file__).resolve().parents[2] / "examples" / "study.toml"
    assert (tmp_path / "new" / "study.toml").read_text() == example.read_text()
    assert load_study(tmp_path / "new").info.id == "fms-pt-example"
    code, _, err = run(capsys, "init", tmp_path / "new")
    assert code != 0 and "already exists" in err


def test_vonfrey_counts_rows_not_tested(demo_dir, tmp_path, capsys):
    table = pd.read_csv(demo_dir / "raw" / "von_frey.csv")
    table.loc[:23, ["xo_series", "last_filament"]] = None
    table.to_csv(tmp_path / "vf.csv", index=False)
    code, out, _ = run(capsys, "vonfrey", tmp_path / "vf.csv", "--out", tmp_path / "thr.csv")
    assert code == 0
    assert f"{len(table) - 24} thresholds" in out and "24 not tested" in out


def test_vonfrey_refusal_says_no_table_was_written(demo_dir, tmp_path, capsys):
    table = pd.read_csv(demo_dir / "raw" / "von_frey.csv")
    table.loc[3, "xo_series"] = "OOXQ"
    table.to_csv(tmp_path / "vf.csv", index=False)
    code, out, err = run(capsys, "vonfrey", tmp_path / "vf.csv", "--out", tmp_path / "thr.csv")
    assert code == 3 and "no table was written" in err and "row 5" in err
    assert "imported" not in err
    assert not (tmp_path / "thr.csv").exists()
