"""Input types at the server against the model's signature: the server silently converts strings that look
like numbers (and whole floats to ints), so a wrong type on the wire is found here, not by an HTTP error."""

from __future__ import annotations

import pandas as pd

from tasks.limits import Limit
from tasks.result import Finding, judge

# Which received value kinds each signature type accepts without changing meaning (ints widen to floats).
ACCEPTS = {
    "long": {"integer"},
    "integer": {"integer"},
    "double": {"integer", "float"},
    "float": {"integer", "float"},
    "string": {"string"},
    "boolean": {"boolean"},
    "datetime": {"datetime"},
    "binary": {"binary"},
}
_KIND = {
    "integer": "integer",
    "floating": "float",
    "mixed-integer-float": "float",
    "decimal": "float",
    "string": "string",
    "boolean": "boolean",
    "datetime64": "datetime",
    "datetime": "datetime",
    "date": "datetime",
    "bytes": "binary",
}


def expected_types(model_uri: str) -> dict[str, str] | None:
    """Column -> MLflow type name from the logged model's signature; None when it has no column signature."""
    from mlflow.models import get_model_info

    signature = get_model_info(model_uri).signature
    if signature is None or signature.inputs is None or not signature.inputs.has_input_names():
        return None
    out: dict[str, str] = {}
    for spec in signature.inputs.inputs:
        type_name = getattr(spec.type, "name", None)
        if spec.name is not None and type_name in ACCEPTS:
            out[spec.name] = type_name
    return out


def received_kind(values: pd.Series) -> str | None:
    """What the column holds, as one word (None when it holds no values at all)."""
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred == "empty":
        return None
    return _KIND.get(inferred, inferred)


def input_types(frame: pd.DataFrame, expected: dict[str, str], limit: Limit, source: str) -> Finding:
    """One finding per batch of inputs: how many columns carry another type than the signature declares."""
    wrong: dict[str, dict] = {}
    for col, type_name in expected.items():
        if col not in frame.columns:
            continue
        kind = received_kind(frame[col])
        if kind is None or kind in ACCEPTS[type_name]:
            continue
        examples = frame[col].dropna().astype(str).unique()[:3].tolist()
        wrong[col] = {
            "expected": type_name,
            "received": kind,
            "dtype": str(frame[col].dtype),
            "examples": examples,
        }
    detail = "; ".join(
        f"{c!r} expected {w['expected']}, received {w['received']} (e.g. {w['examples']})" for c, w in wrong.items()
    )
    message = (
        f"{source}: {len(wrong)} of {len(expected)} input columns do not match the model signature: {detail}"
        if wrong
        else f"{source}: all {len(expected)} input columns match the model signature"
    )
    return judge(
        "serving_type_mismatch",
        float(len(wrong)),
        limit.warn,
        limit.fail,
        message,
        columns=list(wrong),
        evidence={"source": source, "columns": wrong},
    )
