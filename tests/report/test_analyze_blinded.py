"""Analysis of an allocated study: refused while blinded, coded groups with --blinded,
arms named after unblinding; no blinded output names an arm, donor or preparation."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nocilab.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "design"))
from _allocation_study import FAST_KDF, PASSPHRASE, SECRET_IDS, write_study  # noqa: E402


@pytest.fixture
def allocated(tmp_path, monkeypatch):
    from nocilab.design.blinding import allocate_study
    from nocilab.store import Store

    study = write_study(tmp_path / "study")
    with Store.open(study.database_url()) as store:
        allocate_study(study, store, passphrase=PASSPHRASE, actor="alice", seed=5, kdf_n=FAST_KDF)
        codes = pd.DataFrame(
            [(a, c) for c, a in __import__("nocilab.design.blinding", fromlist=["x"])
             .animal_id_for_codes(store).items()], columns=["animal", "code"])
    # the blinded tester records paw pressure by animal code
    rng = np.random.default_rng(2)
    rows = [{"animal": code, "study_day": d, "trial": t, "force_g": round(rng.normal(120, 10), 1)}
            for code in codes["code"] for d in (-2, -1, 1, 3) for t in (1, 2, 3)]
    raw = tmp_path / "pp_by_code.csv"
    pd.DataFrame(rows).to_csv(raw, index=False)
    assert main(["import", str(study.folder), str(raw), "--assay", "paw_pressure", "-q", "force_g",
                 "--trial", "trial"]) == 0
    monkeypatch.setenv("NOCILAB_PASSPHRASE", PASSPHRASE)
    return study


def _all_text(folder: Path) -> str:
    parts = []
    for p in folder.rglob("*"):
        if p.is_file() and p.suffix in (".html", ".csv", ".svg", ".pzfx"):
            parts.append(p.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def test_analyze_refuses_while_blinded(allocated, tmp_path, capsys):
    code = main(["analyze", str(allocated.folder), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 5 and "blinded" in err and "--blinded" in err
    assert not (tmp_path / "r" / "report.html").exists()


def test_blinded_analysis_shows_coded_groups_only(allocated, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["analyze", str(allocated.folder), "--out", str(out), "--blinded"]) == 0
    text = _all_text(out)
    for secret in SECRET_IDS:
        assert secret not in text, secret
    summary = pd.read_csv(out / "results" / "contrasts.csv")
    assert summary["contrast"].str.contains("group ").all()
    assert "BLINDED" in (out / "report.html").read_text()


def test_after_unblinding_the_report_names_arms(allocated, tmp_path, capsys):
    assert main(["unblind", str(allocated.folder), "--reason", "all readings in"]) == 0
    out = tmp_path / "r"
    assert main(["analyze", str(allocated.folder), "--out", str(out)]) == 0
    contrasts = pd.read_csv(out / "results" / "contrasts.csv")
    assert set(contrasts["arm"]) == {"armFMS", "armVEH"}
    assert set(contrasts["contrast"]) == {"armFMS - armHC", "armVEH - armHC"}
    prov = pd.read_csv(out / "results" / "provenance.csv").set_index("item")["value"]
    assert prov["seed"] == "allocation 5"  # the seed is shown once unblinded
