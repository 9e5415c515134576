"""Fixed-effects design for ``value ~ arm * day [+ covariate]`` with sum-to-zero coding.

The coding and the column order are R's for ``options(contrasts = c("contr.sum",
"contr.poly"))``: ``(Intercept)``, the arm columns, the day columns, the covariate,
then the interaction columns with the arm index varying fastest. Level ``j < k`` of a
factor with ``k`` levels is coded ``e_j``; the last level is coded ``-1`` in every
column. Arm levels are the control arm first, then the others in sorted order; days are
in numeric order. With every arm x day cell observed, the Type III hypothesis of a term
is "all of its columns are zero".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nocilab.errors import AnalysisError


def arm_levels(values: pd.Series, control: str, *, column: str) -> tuple[str, ...]:
    """Arm levels with ``control`` first, the others sorted; raise when it is absent."""
    found = sorted({str(v) for v in values.dropna().unique()})
    if control not in found:
        raise AnalysisError(
            f"control arm {control!r} not found in column {column!r}; arms found: {found}"
        )
    if len(found) < 2:
        raise AnalysisError(f"column {column!r} holds one arm only ({found}); need two or more")
    return (control, *[a for a in found if a != control])


def _sum_coding(codes: np.ndarray, k: int) -> np.ndarray:
    """R's contr.sum columns for integer codes 0..k-1."""
    out = np.zeros((codes.size, k - 1))
    if k < 2:
        return out
    rows = np.arange(codes.size)
    first = codes < k - 1
    out[rows[first], codes[first]] = 1.0
    out[~first, :] = -1.0
    return out


@dataclass(frozen=True)
class Design:
    """Levels, column names and term blocks of the fixed-effects design."""

    arms: tuple[str, ...]
    days: tuple[float, ...]
    covariate: str | None = None
    names: tuple[str, ...] = field(init=False)
    terms: dict[str, tuple[int, ...]] = field(init=False)

    def __post_init__(self) -> None:
        a, t = len(self.arms), len(self.days)
        names = ["(Intercept)"]
        terms: dict[str, tuple[int, ...]] = {}
        cols = [f"arm[{lv}]" for lv in self.arms[:-1]]
        terms["arm"] = tuple(range(len(names), len(names) + len(cols)))
        names += cols
        if t > 1:
            cols = [f"day[{_day_label(d)}]" for d in self.days[:-1]]
            terms["day"] = tuple(range(len(names), len(names) + len(cols)))
            names += cols
        if self.covariate is not None:
            terms[self.covariate] = (len(names),)
            names.append(self.covariate)
        if t > 1:
            cols = [
                f"arm[{self.arms[i]}]:day[{_day_label(self.days[j])}]"
                for j in range(t - 1)
                for i in range(a - 1)
            ]
            terms["arm:day"] = tuple(range(len(names), len(names) + len(cols)))
            names += cols
        object.__setattr__(self, "names", tuple(names))
        object.__setattr__(self, "terms", terms)

    @property
    def n_columns(self) -> int:
        return len(self.names)

    def matrix(
        self, arm_codes: np.ndarray, day_codes: np.ndarray, covariate: np.ndarray | None = None
    ) -> np.ndarray:
        """Design rows for integer arm and day codes (and covariate values)."""
        a, t = len(self.arms), len(self.days)
        xa = _sum_coding(np.asarray(arm_codes), a)
        parts = [np.ones((xa.shape[0], 1)), xa]
        if t > 1:
            xd = _sum_coding(np.asarray(day_codes), t)
            parts.append(xd)
        if self.covariate is not None:
            if covariate is None:
                raise AnalysisError("the design has a covariate but no values were given")
            parts.append(np.asarray(covariate, dtype=float).reshape(-1, 1))
        if t > 1:
            inter = (xd[:, :, None] * xa[:, None, :]).reshape(xa.shape[0], -1)
            parts.append(inter)
        return np.hstack(parts)

    def cell_row(self, arm_index: int, day_index: int, covariate: float = 0.0) -> np.ndarray:
        """The design row of one arm x day cell (covariate at ``covariate``)."""
        cov = None if self.covariate is None else np.array([covariate])
        return self.matrix(np.array([arm_index]), np.array([day_index]), cov)[0]


def day_values(values: object) -> np.ndarray:
    """Study days for output tables: integers when every day is a whole number."""
    arr = np.asarray(values, dtype=float)
    if arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    return arr


def _day_label(d: float) -> str:
    return str(int(d)) if float(d).is_integer() else repr(float(d))


def check_cells(
    arm_codes: np.ndarray, day_codes: np.ndarray, design: Design, *, where: str
) -> None:
    """Raise when an arm x day cell has no observation (the model is then not estimable)."""
    a, t = len(design.arms), len(design.days)
    seen = np.zeros((a, t), dtype=bool)
    seen[arm_codes, day_codes] = True
    if not seen.all():
        empty = [
            f"{design.arms[i]} on day {_day_label(design.days[j])}"
            for i, j in zip(*np.nonzero(~seen), strict=True)
        ]
        raise AnalysisError(
            f"{where}: no observation for {', '.join(empty)}; every arm needs a value "
            "on every analysed day (drop the day or the arm)"
        )


def codes(values: pd.Series, levels: Sequence[object]) -> np.ndarray:
    """Integer codes of ``values`` in ``levels`` (every value must be a level)."""
    cat = pd.Categorical(values, categories=list(levels))
    return np.asarray(cat.codes, dtype=np.intp)
