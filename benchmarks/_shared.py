"""What the benchmarks share: timing a function, and running an R reference script."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` calls of ``fn``, and the last call's result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def run_rscript(script: str, args: list[str], *, what: str,
                frame: pd.DataFrame | None = None) -> dict[str, str] | None:
    """Run ``benchmarks/<script>`` and return its ``KEY=VALUE`` lines as a dict.

    With ``frame``, the frame is written to a temporary CSV (17 significant digits) whose
    path is the script's first argument. Returns None, after saying why, when Rscript is
    not on the PATH or the script fails: ``what`` names the comparison that is skipped.
    """
    rscript = shutil.which("Rscript")
    if rscript is None:
        print(f"R: Rscript not found on PATH; {what} is skipped")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        if frame is not None:
            csv = Path(tmp) / "data.csv"
            frame.to_csv(csv, index=False, float_format="%.17g")
            args = [str(csv), *args]
        proc = subprocess.run([rscript, str(HERE / script), *args], capture_output=True,
                              text=True, check=False)
    if proc.returncode != 0:
        print(f"R: {script} failed (exit {proc.returncode}); {what} is skipped\n{proc.stderr}")
        return None
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
