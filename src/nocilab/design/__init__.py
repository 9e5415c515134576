"""nocilab.design"""

# Randomised allocation, blinding codes and keys, printable sheets.
from nocilab.design.allocate import Allocation, allocate_animals  # noqa: E402
from nocilab.design.blinding import (  # noqa: E402
    allocate_study,
    animal_id_for_codes,
    assignments,
    blinding_state,
    unblind,
)
from nocilab.design.sheets import write_sheets  # noqa: E402
