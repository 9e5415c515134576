"""``nocilab stats``: the study statistics on any tidy table, for data not kept in nocilab.

Reads a CSV/XLSX with one row per animal x day, checks the named columns, runs
:func:`nocilab.stats.analysis.analyze_outcome` and writes ``anova.csv``,
``contrasts.csv``, ``donors.csv`` (with a donor column), ``affected_donors.csv``,
``effect_sizes.csv``, ``variance_components.csv`` and ``summary.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from nocilab.errors import TableProblems, Problem, shown


VALUE_LIMIT = 1e15


def read_tidy(path: Path, *, columns: Sequence[str], value: str, sheet: str | None = None
              ) -> pd.DataFrame:
    """Read a tidy table; every named column must exist and ``value`` be numeric."""
    from nocilab.ingest.files import read_sheets

    sheets = read_sheets(path, sheet=sheet)
    if len(sheets) > 1:
        names = ", ".join(repr(s.name) for s in sheets)
        raise TableProblems(str(path), [Problem(str(path), f"the workbook has several sheets ({names}); "
                                                            "choose one with --sheet")])
    sh = sheets[0]
    frame = sh.cells
    where = sh.file + (f", sheet {sh.name!r}" if sh.name is not None else "")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(repr, frame.columns))
        raise TableProblems(str(path), [Problem(where, f"no column {c!r}; columns are {found}")
                                         for c in missing])
    out = frame.copy()
    problems = []
    blank = out[value].isna() | out[value].astype(str).str.strip().eq("")
    num = pd.to_numeric(out[value].where(~blank), errors="coerce")
    for idx in out.index[num.isna() & ~blank][:50]:
        problems.append(Problem(f"{where}, row {sh.row_number(idx)}, column {value!r}",
                                "must be a number (leave the cell empty for a missing value)",
                                out.at[idx, value]))
    # beyond 1e15 doubles no longer hold whole numbers exactly: no measurement is that large
    for idx in out.index[num.notna() & ~(num.abs() < VALUE_LIMIT)][:50]:
        problems.append(Problem(f"{where}, row {sh.row_number(idx)}, column {value!r}",
                                "must be a finite number between -1e15 and 1e15 (check the "
                                "column and its unit)", out.at[idx, value]))
    for col in columns:
        if col == value:
            continue
        empty = out[col].isna() | out[col].astype(str).str.strip().eq("")
        for idx in out.index[empty][:20]:
            problems.append(Problem(f"{where}, row {sh.row_number(idx)}, column {col!r}", "is empty"))
    if problems:
        raise TableProblems(str(path), problems)
    out[value] = num
    return out


def run_tidy_stats(path: Path, *, value: str, arm: str, day: str, animal: str,
                   donor: str | None, control: str | None, baseline_days: Sequence[float] | None,
                   baseline: str, posttest: str, direction: str, sheet: str | None,
                   out: Path, window: tuple[int, int | None] | None = None,
                   window_option: str = "--window",
                   outcomes: Sequence[str] | None = None, scale: str = "linear") -> list[Path]:
    """Analyse a tidy table and write the result tables into ``out``; return the files.

    ``window``: the analysis window from the command line (default: day 1 to the last).
    ``outcomes``: in a table with an ``outcome`` column (and optionally ``assay``), the
    outcomes to analyse, each on its own, with Holm's correction across them; a table
    holding several outcomes needs them named. ``scale``: ``linear`` or ``log10``
    (:mod:`nocilab.stats.scale`).
    """
    from nocilab.errors import AnalysisError
    from nocilab.stats.analysis import StudyAnalysis, analyze_outcome
    from nocilab.stats.window import choose_window

    cols = [value, arm, day, animal] + ([donor] if donor else [])
    frame = read_tidy(path, columns=cols, value=value, sheet=sheet)
    days = pd.to_numeric(frame[day].astype(str).str.strip(), errors="coerce")
    if days.isna().any():
        bad = frame.loc[days.isna(), day].iloc[0]
        raise AnalysisError(f"{path}: column {day!r} must hold study days as numbers; found {shown(bad)}")
    frame[day] = days
    for c in [arm, animal] + ([donor] if donor else []):
        frame[c] = frame[c].astype(str).str.strip()
    arms = sorted(frame[arm].unique())
    if control is None:
        control = arms[0]
    elif control not in arms:
        raise AnalysisError(f"--control {control!r} is not an arm of column {arm!r}; arms: {', '.join(arms)}")
    win = choose_window(command_line=window, option=window_option)
    results = {}
    for (assay, outcome), rows in _outcome_groups(frame, outcomes, path=path, value=value):
        base = baseline_days
        if base is None:
            base = tuple(sorted(d for d in rows[day].unique() if d < 0))
        results[(assay, outcome)] = analyze_outcome(
            rows, value=value, arm=arm, day=day, animal=animal, donor=donor, control=control,
            baseline_days=tuple(base), baseline=baseline, posttest=posttest,
            direction=direction, outcome=outcome, assay=assay, auc_window=win, scale=scale)
    study = StudyAnalysis(results=results, failures={}, settings={"window": win.describe()})
    tables = {
        "anova": study.anova(), "contrasts": study.contrasts(),
        "effect_sizes": study.effect_sizes(), "variance_components": study.variance_components(),
        "summary": study.summary(), "donor_test": study.donor_test(),
    }
    if donor:
        tables["donors"] = study.donors()
        tables["affected_donors"] = study.affected_donors()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, t in tables.items():
        if "assay" in t.columns and not t["assay"].astype(str).str.strip().ne("").any():
            t = t.drop(columns=["assay"])  # a table without assays
        p = out / f"{name}.csv"
        t.to_csv(p, index=False)
        written.append(p)
    return written


def _outcome_groups(frame: pd.DataFrame, outcomes: Sequence[str] | None, *, path: Path,
                    value: str) -> list[tuple[tuple[str, str], pd.DataFrame]]:
    """``((assay, outcome), rows)`` of each outcome to analyse."""
    from nocilab.errors import AnalysisError
    from nocilab.report.analyze import select_outcomes

    has = "outcome" in frame.columns
    if outcomes:
        if not has:
            raise AnalysisError(f"{path}: --outcome needs a column named outcome; columns are "
                                + ", ".join(map(str, frame.columns)))
        out = []
        for name in dict.fromkeys(outcomes):
            rows = select_outcomes(frame, [name], what=str(path))
            assay = str(rows["assay"].iloc[0]) if "assay" in rows.columns else ""
            out.append(((assay, str(rows["outcome"].iloc[0])), rows))
        return out
    if has and frame["outcome"].nunique() > 1:
        names = sorted(set(
            (frame["assay"].astype(str) + "." if "assay" in frame.columns else "")
            + frame["outcome"].astype(str)))
        raise AnalysisError(f"{path} holds {len(names)} outcomes ({', '.join(names)}); choose "
                            "with --outcome NAME (repeat it for several): analysing them as "
                            f"one column {value} would mix them")
    return [(("", value), frame)]
