"""`nocilab power` from the command line: outputs, pilot variance, errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nocilab.cli import main


def test_power_grid_outputs_and_the_chosen_design(tmp_path, capsys):
    out = tmp_path / "pw"
    code = main(["power", "--effect", "25", "--baseline-mean", "120", "--sd-donor", "12",
                 "--sd-animal", "10", "--sd-residual", "12", "--donors", "4-10", "--mice", "1-3",
                 "--sims", "2000", "--seed", "3", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    grid = pd.read_csv(out / "power_grid.csv")
    assert len(grid) == 7 * 3
    # power rises with donors for every number of mice
    for _, g in grid.groupby("mice_per_donor"):
        assert g.sort_values("donors_per_arm")["power"].is_monotonic_increasing
    summary = json.loads((out / "power_summary.json").read_text())
    assert summary["rule"] == "fewest-animals" and summary["reached"]
    ok = grid[grid.power >= 0.8]
    best = summary["chosen"]
    assert best == summary["fewest_animals"]
    assert best["n_animals"] == ok.n_animals.min() and best["power"] >= 0.8
    donors = summary["fewest_donors"]
    assert donors["donors_per_arm"] == ok.donors_per_arm.min()
    for ext in ("png", "pdf", "svg"):
        assert (out / f"power_curves.{ext}").is_file()
    assert "reaches power 0.8" in text and "fewest donors:" in text


def test_power_chooses_the_fewest_animals_and_says_why(tmp_path, capsys):
    """The README example: 6 x 5 (60 mice) has the fewest donors, but designs with far
    fewer mice reach the target too; the fewest animals are chosen and both are shown."""
    out = tmp_path / "pw"
    assert main(["power", "--effect", "25", "--baseline-mean", "120", "--sd-donor", "12",
                 "--sd-animal", "10", "--sd-residual", "12", "--sims", "4000",
                 "--unit", "g", "--out", str(out)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    grid = pd.read_csv(out / "power_grid.csv")
    summary = json.loads((out / "power_summary.json").read_text())
    chosen, donors = summary["chosen"], summary["fewest_donors"]
    ok = grid[grid.power >= 0.8]
    assert chosen["n_animals"] == ok.n_animals.min() < donors["n_animals"]
    assert donors["donors_per_arm"] == ok.donors_per_arm.min()
    statement = " ".join((out / "sample_size.txt").read_text().split())
    assert ("the one with the fewest animals was chosen (the reduction principle; rule "
            "fewest-animals)") in statement
    assert (f"with {chosen['donors_per_arm']} donors per arm and "
            f"{chosen['mice_per_donor']} mouse per donor ({chosen['n_animals']} mice in 2 "
            "arms)") in statement
    assert (f"The design with the fewest donors would be {donors['donors_per_arm']} donors "
            f"per arm x {donors['mice_per_donor']} mice per donor ({donors['n_animals']} "
            "mice)") in statement
    # the effect's scale, everywhere it is summarised
    scale = "effect 25 % of baseline = 30 g (baseline 120 g)"
    assert scale in text and summary["effect"]["text"] == scale
    assert summary["effect"]["magnitude"] == 30.0 and summary["effect"]["unit"] == "g"
    assert "a decrease of 25 % of baseline = 30 g (baseline 120 g) at its peak" in statement
    assert f"chosen (fewest animals, --choose fewest-animals): {chosen['donors_per_arm']} donors" in text
    assert f"fewest donors: {donors['donors_per_arm']} donors per arm" in text

    out2 = tmp_path / "pw2"
    assert main(["power", "--effect", "25", "--baseline-mean", "120", "--sd-donor", "12",
                 "--sd-animal", "10", "--sd-residual", "12", "--sims", "4000",
                 "--choose", "fewest-donors", "--out", str(out2)]) == 0
    text2 = " ".join(capsys.readouterr().out.split())
    other = json.loads((out2 / "power_summary.json").read_text())
    assert other["chosen"] == other["fewest_donors"] == donors
    assert "fewest animals: " in text2
    assert "rule fewest-donors" in (out2 / "sample_size.txt").read_text()
    # no unit given: the amounts are in reading units
    assert "effect 25 % of baseline = 30 (baseline 120, in reading units)" in text2


@pytest.mark.parametrize(("extra", "words"), [
    (["--choose", "cheapest"], "--choose must be one of fewest-animals, fewest-donors"),
    (["--choose", "fewest-donors", "--donor-cost", "2"], "--donor-cost"),
    (["--donor-cost", "-1"], "--donor-cost must be a number of animals >= 0"),
])
def test_power_choice_options_are_checked(tmp_path, capsys, extra, words):
    code = main(["power", "--effect", "25", "--baseline-mean", "120", "--sd-donor", "12",
                 "--sd-animal", "10", "--sd-residual", "12", "--sims", "100",
                 "--out", str(tmp_path / "x"), *extra])
    err = capsys.readouterr().err
    assert code != 0 and words in " ".join(err.split()) and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_power_with_a_donor_cost_takes_fewer_donors(tmp_path, capsys):
    common = ["power", "--effect", "25", "--baseline-mean", "120", "--sd-donor", "12",
              "--sd-animal", "10", "--sd-residual", "12", "--sims", "2000"]
    assert main(common + ["--out", str(tmp_path / "a")]) == 0
    assert main(common + ["--donor-cost", "10", "--out", str(tmp_path / "b")]) == 0
    free = json.loads((tmp_path / "a" / "power_summary.json").read_text())
    costly = json.loads((tmp_path / "b" / "power_summary.json").read_text())
    assert costly["donor_cost"] == 10.0
    assert costly["chosen"]["donors_per_arm"] < free["chosen"]["donors_per_arm"]
    assert costly["chosen"]["n_animals"] > free["chosen"]["n_animals"]
    assert "fewest animals (each donor counted as 10 animals)" in (
        tmp_path / "b" / "sample_size.txt").read_text()


@pytest.fixture
def pilot(tmp_path, simulated_small):
    """A small study with its paw-pressure readings imported."""
    from nocilab.demo import write_demo_files

    folder = tmp_path / "pilot"
    write_demo_files(simulated_small, folder)
    assert main(["import", str(folder), str(folder / "raw" / "paw_pressure_wide.xlsx"),
                 "--mapping", "paw_pressure_wide"]) == 0
    return folder


def test_power_from_pilot_study(tmp_path, capsys, pilot):
    folder = pilot
    out = tmp_path / "pw"
    code = main(["power", "--effect", "20", "--from", str(folder), "--outcome",
                 "paw_pressure.threshold_g", "--donors", "4-6", "--mice", "1-2", "--sims", "500",
                 "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "power_summary.json").read_text())
    var = summary["variance_from"]["variance"]
    assert var["sd_residual"] > 0 and summary["variance_from"]["outcome"] == "paw_pressure.threshold_g"
    assert 100 < summary["variance_from"]["baseline_mean"] < 150
    # every component comes from the pilot's fit, the day-to-day correlation included
    pilot = summary["variance_from"]
    assert "rho" in pilot["note"] and "(fixed)" not in pilot["note"]
    assert -1 < var["rho"] < 1 and var["rho"] != 0.0
    assert summary["design"]["variance"] == var


def test_power_from_pilot_with_rho_and_sd_given(tmp_path, capsys, pilot):
    folder = pilot
    out = tmp_path / "pw"
    code = main(["power", "--effect", "20", "--from", str(folder), "--outcome",
                 "paw_pressure.threshold_g", "--rho", "0.3", "--sd-residual", "9",
                 "--donors", "4-5", "--mice", "1-2", "--sims", "200", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    summary = json.loads((out / "power_summary.json").read_text())
    assert summary["variance_from"]["variance"]["rho"] == 0.3
    assert "(fixed)" in summary["variance_from"]["note"]
    used = summary["design"]["variance"]
    assert used["sd_residual"] == 9.0 and used["rho"] == 0.3
    assert used["sd_donor"] == summary["variance_from"]["variance"]["sd_donor"]
    assert "sd_residual 9" in text


def test_power_without_variances_says_what_to_give(tmp_path, capsys):
    code = main(["power", "--effect", "20", "--sd-donor", "1", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code != 0 and "--sd-animal" in err and "--from" in err and "Traceback" not in err


def test_power_with_lost_mice_plans_for_them(tmp_path, capsys):
    common = ["power", "--effect", "20", "--baseline-mean", "100", "--sd-donor", "8",
              "--sd-animal", "5", "--sd-residual", "8", "--donors", "4-10", "--mice", "2",
              "--sims", "4000"]
    assert main(common + ["--out", str(tmp_path / "a")]) == 0
    assert main(common + ["--dropout", "0.3", "--out", str(tmp_path / "b")]) == 0
    text = capsys.readouterr().out
    full = json.loads((tmp_path / "a" / "power_summary.json").read_text())
    lossy = json.loads((tmp_path / "b" / "power_summary.json").read_text())
    assert lossy["design"]["dropout"] == 0.3 and full["design"]["dropout"] == 0.0
    assert lossy["chosen"]["donors_per_arm"] > full["chosen"]["donors_per_arm"]
    assert "30% expected lost" in text.replace("\n", " ")
    # a paragraph for the protocol or the ethics application, with the numbers it rests on
    statement = (tmp_path / "b" / "sample_size.txt").read_text()
    best = lossy["chosen"]
    assert statement == lossy["statement"] + "\n"
    assert (f"with {best['donors_per_arm']} donors per arm and {best['mice_per_donor']} mice "
            f"per donor ({best['n_animals']} mice in 2 arms), the power is "
            f"{best['power']:.3f}") in statement
    assert "allows for 30% of mice lost" in statement and "SD between donors 8," in statement
    assert "Student's t test on donor means" in statement and "seed 1" in statement
    smaller = pd.read_csv(tmp_path / "b" / "power_grid.csv")
    below = smaller[smaller.donors_per_arm == best["donors_per_arm"] - 1]["power"].iloc[0]
    assert (f"The next smaller designs fall short: {best['donors_per_arm'] - 1} donors per arm "
            f"x 2 mice per donor ({(best['donors_per_arm'] - 1) * 4} animals) has power "
            f"{below:.3f}") in statement
    # 2 mice per donor was given as one value: fixed, so fewer mice are not searched
    assert set(smaller.mice_per_donor) == {2}
    assert "2 mice per donor is the grid's only (fixed) number of mice" in statement


def test_power_refuses_a_dropout_of_one(tmp_path, capsys):
    code = main(["power", "--effect", "20", "--baseline-mean", "100", "--sd-donor", "8",
                 "--sd-animal", "5", "--sd-residual", "8", "--dropout", "1",
                 "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code != 0 and "dropout" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_power_with_several_treatment_arms_adjusts_over_them(tmp_path, capsys):
    common = ["power", "--effect", "25", "--baseline-mean", "120", "--sd-donor", "12",
              "--sd-animal", "10", "--sd-residual", "12", "--donors", "6", "--mice", "3",
              "--sims", "20000"]
    runs = {}
    for name, extra in (("none", ["--treatment-arms", "3", "--adjust", "none"]),
                        ("dunnett", ["--treatment-arms", "3", "--adjust", "dunnett"]),
                        ("bonferroni", ["--treatment-arms", "3", "--adjust", "bonferroni"])):
        assert main(common + extra + ["--out", str(tmp_path / name)]) == 0
        runs[name] = pd.read_csv(tmp_path / name / "power_grid.csv")["power"].iloc[0]
    # adjusting over three comparisons costs power, Dunnett's exact value less than Bonferroni
    assert runs["none"] > runs["dunnett"] > runs["bonferroni"]
    statement = (tmp_path / "dunnett" / "sample_size.txt").read_text()
    assert "Each of the 3 treatment arms" in statement and "Dunnett's single-step" in statement
    summary = json.loads((tmp_path / "dunnett" / "power_summary.json").read_text())
    assert summary["design"]["arms"] == ["control", "treatment 1", "treatment 2", "treatment 3"]
    assert main(common + ["--treatment-arms", "0", "--out", str(tmp_path / "x")]) != 0
    assert "--treatment-arms" in capsys.readouterr().err


def test_power_with_a_cut_off(tmp_path, capsys):
    common = ["power", "--effect", "25", "--direction", "increase", "--baseline-mean", "24",
              "--sd-donor", "2", "--sd-animal", "1.5", "--sd-residual", "3", "--donors", "6",
              "--mice", "3", "--sims", "20000"]
    assert main(common + ["--out", str(tmp_path / "free")]) == 0
    assert main(common + ["--bounds", ",27", "--sd-level", "3", "--out", str(tmp_path / "cut")]) == 0
    free = pd.read_csv(tmp_path / "free" / "power_grid.csv")["power"].iloc[0]
    cut = pd.read_csv(tmp_path / "cut" / "power_grid.csv")["power"].iloc[0]
    assert cut < free - 0.1
    summary = json.loads((tmp_path / "cut" / "power_summary.json").read_text())
    assert summary["design"]["bounds"] == [None, 27.0]
    assert "censored at an upper limit 27" in (tmp_path / "cut" / "sample_size.txt").read_text()
    capsys.readouterr()
    assert main(common + ["--bounds", ",27", "--out", str(tmp_path / "x")]) != 0
    assert "--sd-level" in capsys.readouterr().err
    assert main(common + ["--bounds", "27", "--sd-level", "3", "--out", str(tmp_path / "y")]) != 0
    assert "LOW,HIGH" in capsys.readouterr().err


def test_power_extends_a_grid_whose_every_design_reaches_the_target(tmp_path, capsys):
    out = tmp_path / "pw"
    assert main(["power", "--effect", "40", "--baseline-mean", "120", "--sd-donor", "6",
                 "--sd-animal", "5", "--sd-residual", "6", "--donors", "4-8", "--mice", "1-3",
                 "--sims", "2000", "--out", str(out)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    grid = pd.read_csv(out / "power_grid.csv")
    summary = json.loads((out / "power_summary.json").read_text())
    asked = grid[grid.donors_per_arm >= 4]
    assert (asked.power >= 0.8).all()  # every design asked for reaches the target
    assert grid.donors_per_arm.min() < 4 and summary["requested"]["donors_per_arm"][0] == 4
    chosen = summary["chosen"]
    below = grid[(grid.donors_per_arm == chosen["donors_per_arm"] - 1)
                 & (grid.mice_per_donor == chosen["mice_per_donor"])]
    assert chosen["donors_per_arm"] == 2 or (below.power < 0.8).all()
    statement = " ".join((out / "sample_size.txt").read_text().split())
    low = int(grid.donors_per_arm.min())
    assert f"The grid was extended down to {low} donors per arm (from 4)" in statement
    assert f"the grid was extended down to {low} donors per arm (from 4)" in text
    for x in summary["next_smaller"]:
        assert f"{x['donors_per_arm']} donors per arm x" in statement
        assert f"has power {x['power']:.3f}" in statement


def test_power_from_pilot_plans_the_study_files_window(tmp_path, capsys, pilot):
    from nocilab.model import load_study

    assert load_study(pilot).analysis_window() == ((1, 14), "[analysis] window")
    out = tmp_path / "pw"
    assert main(["power", "--effect", "20", "--from", str(pilot), "--outcome",
                 "paw_pressure.threshold_g", "--donors", "4-5", "--mice", "1-2", "--sims", "200",
                 "--out", str(out)]) == 0
    text = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "analysis window: days 1-14, from the study file ([analysis] window)" in text
    summary = json.loads((out / "power_summary.json").read_text())
    # the pilot's components and the planned test use the days the pilot's report uses
    assert summary["variance_from"]["window_days"] == [1, 3, 5, 7, 10, 14]
    assert summary["design"]["days"] == [1, 3, 5, 7, 10, 14]
    assert summary["design"]["baseline_days"] == [-3, -1]
    assert summary["design"]["window"] == [1, 14]
    assert "over days 1-14" in (out / "sample_size.txt").read_text()


def test_power_window_on_the_command_line_wins(tmp_path, capsys, pilot):
    out = tmp_path / "pw"
    assert main(["power", "--effect", "20", "--from", str(pilot), "--outcome",
                 "paw_pressure.threshold_g", "--window", "1,7", "--donors", "4", "--mice", "1",
                 "--sims", "200", "--out", str(out)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "days 1-7, from the command line (--window 1,7)" in text
    summary = json.loads((out / "power_summary.json").read_text())
    assert summary["variance_from"]["window_days"] == [1, 3, 5, 7]
    assert summary["design"]["days"] == [1, 3, 5, 7] and summary["design"]["window"] == [1, 7]


def test_power_window_without_a_pilot_and_a_bad_window(tmp_path, capsys):
    common = ["power", "--effect", "20", "--baseline-mean", "100", "--sd-donor", "8",
              "--sd-animal", "5", "--sd-residual", "8", "--donors", "4", "--mice", "2",
              "--sims", "200"]
    out = tmp_path / "pw"
    assert main([*common, "--window", "1,3", "--out", str(out)]) == 0
    summary = json.loads((out / "power_summary.json").read_text())
    assert summary["design"]["days"] == [1, 2, 3, 5, 7, 10]  # the default test days
    assert summary["design"]["window"] == [1, 3]
    capsys.readouterr()
    code = main([*common, "--window", "3-1", "--out", str(tmp_path / "bad")])
    err = " ".join(capsys.readouterr().err.split())
    assert code != 0 and "--window must be FIRST,LAST" in err and "Traceback" not in err
    assert not (tmp_path / "bad").exists()


def test_grid_never_rounds_a_design_below_the_target_up_to_it():
    """0.799 against a target of 0.8 is shown as 0.799 (not 0.80) and not in bold."""
    import io

    import pandas as pd
    from rich.console import Console

    from nocilab.cli_power import _grid_table

    frame = pd.DataFrame({"donors_per_arm": [6, 6, 7], "mice_per_donor": [2, 3, 2],
                          "power": [0.799, 0.8004, 0.9]})
    table = _grid_table(frame, 0.8)
    out = io.StringIO()
    Console(file=out, width=100, force_terminal=True, color_system="standard").print(table)
    text = out.getvalue()
    assert "0.799" in text and "0.80 " not in text
    assert "\x1b[1m0.799" not in text and "\x1b[1m0.800" in text and "\x1b[1m0.900" in text
