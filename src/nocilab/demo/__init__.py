"""The simulated passive-transfer study behind ``nocilab demo`` (SIMULATED data only)."""

from nocilab.demo.run import run_demo, write_demo_files
from nocilab.demo.simulate import SimulatedStudy, simulate_study, time_course

__all__ = ["SimulatedStudy", "run_demo", "simulate_study", "time_course", "write_demo_files"]
