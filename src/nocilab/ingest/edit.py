"""Corrections and deletions of stored readings, checked as an import is checked.

Every change goes through :func:`nocilab.ingest.validate.check_readings` inside the
store's write transaction, so what is checked is what the store holds when the change
is written; a change with any problem writes nothing. The command line's ``correct``
and ``delete`` call these functions, and so does any other front end.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from nocilab.errors import Problem, ReadingProblems
from nocilab.ingest.validate import check_readings
from nocilab.model import Study
from nocilab.store import Store


def write_changes(study: Study, store: Store, changes: pd.DataFrame, *, actor: str,
                  source: str) -> list[int]:
    """Check and write new, corrected and deleted readings in one transaction.

    Parameters
    ----------
    study, store
        The study file and its open store.
    changes : DataFrame
        Candidate readings in the columns of
        :data:`nocilab.ingest.validate.CANDIDATE_COLUMNS`.
    actor : str
        Who makes the changes (recorded in the audit trail).
    source : str
        What the changes are, for the message when they are refused.

    Returns
    -------
    list of int
        The id of the row each change wrote (the new reading, the corrected version or
        the deletion record), in the order of ``changes``.

    Raises
    ------
    ReadingProblems
        Listing every problem; the store is left as it was.
    """
    with store.transaction() as tx:
        stored = store.observations(current_only=False, tx=tx)
        rows, problems = check_readings(study, stored, changes)
        if problems:
            raise ReadingProblems(source, problems)
        if rows.empty:
            raise ReadingProblems(source, [Problem(source, "no changes to write")])
        ids: list[int] = [0] * len(rows)
        # corrections and deletions first: an insert may take the place of a deletion
        for i, r in sorted(enumerate(rows.itertuples(index=False)),
                           key=lambda x: x[1].action == "insert"):
            num = None if pd.isna(r.value_num) else float(r.value_num)
            if r.action == "insert":
                ids[i] = store.add_observation(
                    str(r.animal), int(r.study_day), str(r.assay), int(r.trial),
                    str(r.quantity), value_num=num, value_text=r.value_text, actor=actor,
                    reason=r.reason, tx=tx)
            elif r.action == "correct":
                ids[i] = store.correct_observation(
                    int(r.observation_id), value_num=num, value_text=r.value_text,
                    actor=actor, reason=r.reason, tx=tx)
            else:
                ids[i] = store.delete_observation(int(r.observation_id), actor=actor,
                                                  reason=r.reason, tx=tx)
    return ids


def correct_reading(study: Study, store: Store, observation_id: int, value: object, *,
                    reason: str, actor: str) -> int:
    """Correct one stored reading; returns the id of its new version.

    ``value`` is taken as an import takes a cell: a number for a numeric quantity
    (``"118.5"``), a text for a text one (``"OXOOX"``). The corrected reading must pass
    every check an import applies (type, range, cut-off, filament set, X/O alphabet, the
    up-down rule with the quantities stored beside it), else
    :class:`~nocilab.errors.ReadingProblems` is raised and nothing is written.
    """
    changes = pd.DataFrame([{"action": "correct", "observation_id": observation_id,
                             "raw": value, "reason": reason}])
    return write_changes(study, store, changes, actor=actor,
                         source=f"correction of observation {observation_id}")[0]


def delete_readings(study: Study, store: Store, observation_ids: Sequence[int], *,
                    reason: str, actor: str) -> list[int]:
    """Delete stored readings together; returns the ids of their deletion records.

    Each must be a current observation, and the readings left must still be whole
    (deleting the ``last_filament`` of an up-down series and keeping its ``xo_series``
    is refused: delete both at once).
    """
    ids = list(observation_ids)
    changes = pd.DataFrame({"action": ["delete"] * len(ids), "observation_id": ids,
                            "reason": [reason] * len(ids)})
    shown = ", ".join(map(str, ids))
    return write_changes(study, store, changes, actor=actor,
                         source=f"deletion of observation{'s' if len(ids) > 1 else ''} {shown}")
