"""A process killed (SIGKILL) in the middle of an import leaves the store as it was.

The child imports a large file. A SQLAlchemy event hook in the child (a seam of the
library, not a test switch in the store) writes a marker file right after the bulk
INSERT of the observations has run inside the open transaction, then waits; the
parent sees the marker and kills the child with SIGKILL. So the kill always lands
inside the transaction, after rows were written to the database but before the audit
events and the commit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _store_helpers import make_readings, sha

from nocilab.store import Store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

CHILD = """
import sys, time
from pathlib import Path
import sqlalchemy as sa
from _store_helpers import make_readings, sha
from nocilab.store import Store

url, marker, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
store = Store.open(url, create=False)

@sa.event.listens_for(store.engine, "after_cursor_execute")
def pause(conn, cursor, statement, parameters, context, executemany):
    if executemany and statement.startswith("INSERT INTO observations"):
        marker.write_text("inside the transaction")
        time.sleep(600)

store.import_observations(make_readings(n, seed=9, first_day=100), file_name="big.csv",
                          file_sha256=sha("big"), actor="child")
print("the import finished, which it must not", flush=True)
"""


def _wait_for(marker: Path, child: subprocess.Popen, *, limit_s: float = 120.0) -> None:
    """Wait until the child is inside the transaction (a guard, not a timing test)."""
    deadline = time.monotonic() + limit_s
    while not marker.exists():
        if child.poll() is not None:
            out, err = child.communicate()
            pytest.fail(f"the child ended before reaching the transaction:\n{out}\n{err}")
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail("the child did not reach the transaction")
        time.sleep(0.02)


def test_kill_during_import_leaves_the_store_as_it_was(tmp_path):
    db = tmp_path / "store.sqlite"
    url = f"sqlite:///{db}"
    with Store.open(url) as s:
        s.import_observations(make_readings(25), file_name="day1.csv",
                              file_sha256=sha("day1"), actor="jk")
        s.correct_observation(3, value_num=10.0, actor="jk", reason="typo")
        before = s.observations(current_only=False)
        events_before = s.audit_events()

    script = tmp_path / "child.py"
    script.write_text(CHILD)
    marker = tmp_path / "inside"
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent),
                                          os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, str(script), url, str(marker), "60000"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
    _wait_for(marker, child)
    journal = Path(f"{db}-journal")
    assert journal.exists() and journal.stat().st_size > 0  # uncommitted writes exist
    os.kill(child.pid, signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL

    with Store.open(url, create=False) as s:
        report = s.verify_audit()
        assert report.ok, report.why
        assert report.n_events == len(events_before)
        after = s.observations(current_only=False)
        assert after.equals(before)
        assert s.audit_events().equals(events_before)
        assert s.imports()["file_name"].tolist() == ["day1.csv"]
        # the file was not recorded as imported, so importing it again works
        again = s.import_observations(make_readings(100, seed=9, first_day=100),
                                      file_name="big.csv", file_sha256=sha("big"), actor="jk")
        assert not again.already_imported and again.n_inserted == 100
        assert s.verify_audit().ok
    assert not journal.exists()
