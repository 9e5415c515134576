"""``nocilab stats``: the study statistics on any tidy table, for data not kept in nocilab.

Reads a CSV/XLSX with one row per animal x day, checks the named columns, runs
:func:`nocilab.stats.analysis.analyze_outcome` and writes ``anova.csv``,
``contrasts.csv``, ``donors.csv`` (with a donor column), ``responders.csv``,
``effect_sizes.csv``, ``variance_components.csv`` and ``summary.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from nocilab.errors import ImportProblems, Problem


def read_tidy(path: Path, *, columns: Sequence[str], value: str, sheet: str | None = None
              ) -> pd.DataFrame:
    """Read a tidy table; every named column must exist and ``value`` be numeric."""
    from nocilab.ingest.files import read_sheets

    sheets = read_sheets(path, sheet=sheet)
    if len(sheets) > 1:
        names = ", ".join(repr(s.name) for s in sheets)
        raise ImportProblems(str(path), [Problem(str(path), f"the workbook has several sheets ({names}); "
                                                            "choose one with --sheet")])
    sh = sheets[0]
    frame = sh.cells
    where = sh.file + (f", sheet {sh.name!r}" if sh.name is not None else "")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(repr, frame.columns))
        raise ImportProblems(str(path), [Problem(where, f"no column {c!r}; columns are {found}")
                                         for c in missing])
    out = frame.copy()
    problems = []
    blank = out[value].isna() | out[value].astype(str).str.strip().eq("")
    num = pd.to_numeric(out[value].where(~blank), errors="coerce")
    for idx in out.index[num.isna() & ~blank][:50]:
        problems.append(Problem(f"{where}, row {sh.row_number(idx)}, column {value!r}",
                                "must be a number (leave the cell empty for a missing value)",
                                out.at[idx, value]))
    for col in columns:
        if col == value:
            continue
        empty = out[col].isna() | out[col].astype(str).str.strip().eq("")
        for idx in out.index[empty][:20]:
            problems.append(Problem(f"{where}, row {sh.row_number(idx)}, column {col!r}", "is empty"))
    if problems:
        raise ImportProblems(str(path), problems)
    out[value] = num
    return out


def run_tidy_stats(path: Path, *, value: str, arm: str, day: str, animal: str,
                   donor: str | None, control: str | None, baseline_days: Sequence[float] | None,
                   baseline: str, posttest: str, direction: str, sheet: str | None,
                   out: Path, window: tuple[int, int | None] | None = None,
                   window_option: str = "--window") -> list[Path]:
    """Analyse a tidy table and write the result tables into ``out``; return the files.

    ``window``: the analysis window from the command line (default: day 1 to the last).
    """
    from nocilab.stats.window import choose_window

    from nocilab.errors import AnalysisError
    from nocilab.stats.analysis import analyze_outcome

    cols = [value, arm, day, animal] + ([donor] if donor else [])
    frame = read_tidy(path, columns=cols, value=value, sheet=sheet)
    days = pd.to_numeric(frame[day].astype(str).str.strip(), errors="coerce")
    if days.isna().any():
        bad = frame.loc[days.isna(), day].iloc[0]
        raise AnalysisError(f"{path}: column {day!r} must hold study days as numbers; found {bad!r}")
    frame[day] = days
    for c in [arm, animal] + ([donor] if donor else []):
        frame[c] = frame[c].astype(str).str.strip()
    arms = sorted(frame[arm].unique())
    if control is None:
        control = arms[0]
    elif control not in arms:
        raise AnalysisError(f"--control {control!r} is not an arm of column {arm!r}; arms: {', '.join(arms)}")
    if baseline_days is None:
        baseline_days = tuple(sorted(d for d in frame[day].unique() if d < 0))
    res = analyze_outcome(frame, value=value, arm=arm, day=day, animal=animal, donor=donor,
                          control=control, baseline_days=tuple(baseline_days), baseline=baseline,
                          posttest=posttest, direction=direction, outcome=value, assay="",
                          auc_window=choose_window(command_line=window, option=window_option))
    tables = {
        "anova": res.anova_table(), "contrasts": res.contrast_table(),
        "effect_sizes": res.effect_size_table(), "variance_components": res.variance_table(),
        "summary": pd.DataFrame([res.summary()]),
        "donor_test": res.donor_test_table(),
    }
    if donor:
        tables["donors"] = res.donor_table()
        tables["responders"] = res.responder_table()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, t in tables.items():
        t = t.drop(columns=[c for c in ("assay",) if c in t.columns])
        p = out / f"{name}.csv"
        t.to_csv(p, index=False)
        written.append(p)
    return written
