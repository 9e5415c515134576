"""Speed of von Frey thresholds: one vectorised call against a per-series loop.

Simulates 1,000,000 up-down series (Chaplan: start at the 0.4 g filament of the mouse
set, 4 more stimuli after the first change of response; a series that runs off an end
of the set stops there, censored) on random latent thresholds, then times
``thresholds()`` on all of them and a naive loop (``dixon_k`` and the formula per
series) on a subsample, in the same run.

Run: ``.venv/bin/python benchmarks/bench_vonfrey.py [N]``
"""

from __future__ import annotations

import sys
import time

import numpy as np
from scipy.special import ndtr

from nocilab.assays.von_frey import dixon_k, load_filament_set, thresholds

SEED = 20240501


def simulate(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` up-down series on the mouse set: X/O texts and last filament numbers."""
    fs = load_filament_set("mouse")
    logs = fs.log_array
    top = len(fs) - 1
    latent = rng.normal(3.3, 0.5, n)  # log10(10 * mg) of each animal's 50% threshold
    spread = rng.uniform(0.15, 0.45, n)  # slope of each animal's response curve
    width = 1 + 12 + 4 + 1  # longest: a run across the set, the change, 4 more
    chars = np.zeros((n, width), dtype=np.uint8)
    pos = np.full(n, fs.position("3.61"))
    last = pos.copy()
    first = np.full(n, -1)  # 1st response
    after = np.full(n, -1)  # stimuli since the first change (-1: no change yet)
    active = np.ones(n, dtype=bool)
    for j in range(width):
        idx = np.flatnonzero(active)
        if not len(idx):
            break
        p = pos[idx]
        x = rng.random(len(idx)) < ndtr((logs[p] - latent[idx]) / spread[idx])
        chars[idx, j] = np.where(x, ord("X"), ord("O"))
        last[idx] = p
        resp = x.astype(int)
        first[idx] = np.where(j == 0, resp, first[idx])
        changed = (after[idx] < 0) & (resp != first[idx])
        after[idx] = np.where(changed, 0, np.where(after[idx] >= 0, after[idx] + 1, -1))
        nxt = p + np.where(x, -1, 1)
        off_end = (after[idx] < 0) & ((nxt < 0) | (nxt > top))
        done = (after[idx] >= 4) | off_end
        active[idx[done]] = False
        pos[idx] = np.clip(nxt, 0, top)
    raw = chars.tobytes()
    series = np.array([raw[i * width:(i + 1) * width].rstrip(b"\0").decode() for i in range(n)],
                      dtype=object)
    numbers = np.asarray(fs.numbers, dtype=object)[last]
    return series, numbers


def naive(series: np.ndarray, last: np.ndarray) -> list[float]:
    """The loop a spreadsheet or a first script does: one series at a time."""
    fs = load_filament_set("mouse")
    out = []
    for s, f in zip(series, last, strict=True):
        xf = fs.log[fs.position(f)]
        try:
            out.append(10 ** (xf + dixon_k(s) * fs.delta) / 1e4)
        except Exception:  # no change of response: censored
            out.append(float("nan"))
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = np.random.default_rng(SEED)
    t0 = time.perf_counter()
    series, last = simulate(n, rng)
    t_sim = time.perf_counter() - t0
    print(f"simulated {n:,} series in {t_sim:.1f} s: {len(set(series)):,} distinct patterns, "
          f"lengths {min(map(len, series))}-{max(map(len, series))}")

    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        result = thresholds(series, last, filaments="mouse")
        best = min(best, time.perf_counter() - t0)
    rate = n / best
    cens = result["censored"].value_counts().to_dict()
    print(f"thresholds(): {best:.3f} s for {n:,} series = {rate:,.0f} series/s (best of 3); "
          f"censored: {cens}")

    m = min(n, 5_000)
    sub = rng.choice(n, m, replace=False)
    t0 = time.perf_counter()
    ref = naive(series[sub], last[sub])
    t_naive = time.perf_counter() - t0
    naive_rate = m / t_naive
    agree = np.allclose(ref, result["threshold_g"].to_numpy()[sub], rtol=1e-9, equal_nan=True)
    print(f"naive loop: {naive_rate:,.0f} series/s on a subsample of {m:,} "
          f"(results agree: {agree})")
    print(f"ratio vectorised / naive: {rate / naive_rate:,.0f}x")


if __name__ == "__main__":
    main()
