import pandas as pd
import pytest

from nocilab import schema
from nocilab.errors import SchemaError


def test_validate_names_the_missing_column():
    frame = schema.empty(schema.DERIVED).drop(columns=["unit"])
    with pytest.raises(SchemaError, match="unit"):
        schema.validate(frame, schema.DERIVED, table="derived")


def test_validate_rejects_unknown_censoring_level():
    frame = schema.empty(schema.DERIVED)
    row = {c: None for c in schema.DERIVED}
    row.update(study_day=1, value=1.0, bound=float("nan"), censored="maybe")
    frame = pd.DataFrame([row])
    with pytest.raises(SchemaError, match="censored"):
        schema.validate(frame, schema.DERIVED, table="derived")


def test_validate_orders_columns():
    frame = schema.empty(schema.DERIVED)
    frame = frame[list(reversed(frame.columns))]
    out = schema.validate(frame, schema.DERIVED, table="derived")
    assert list(out.columns) == list(schema.DERIVED)
