"""Input types at the server against the model's signature. The server silently converts strings that look
like numbers (and whole floats to ints), so a feature sent with the wrong type answers without an HTTP error:
the mismatch is found here, column by column, not by a failed request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import Field

from tasks import checks
from tasks.limits import Limit, judged
from tasks.result import Finding, Severity

if TYPE_CHECKING:
    from tasks.serving.inputs import ServingInputs

SHOWN = 3  # example values named per column

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


class Params(checks.CheckParams):
    columns: Limit = Field(
        Limit(warn=None, fail=0.0), description="input columns of a source whose type differs from the model signature"
    )


@dataclass(frozen=True)
class WrongType:
    column: str
    expected: str  # the signature's type name
    received: str  # what the column holds, as one word
    dtype: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class SourceTypes:
    source: str
    checked: int  # signature columns present in the source
    wrong: tuple[WrongType, ...]


@dataclass(frozen=True)
class Measurement(checks.Measurement):
    signed: bool  # the model has a column signature (else nothing was checked)
    sources: tuple[SourceTypes, ...]

    def metrics(self) -> dict[str, float]:
        return {f"{s.source}.columns": float(len(s.wrong)) for s in self.sources}


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
    """What the column holds, as one word (None when it holds no values at all: an empty or all-null column
    would otherwise be read by its dtype, float64 by default). Whole floats with no missing value (38.0, as an
    export may write an integer column) are integers: the server turns them into the same ints, losslessly; a
    missing value among them is a float NaN no integer input can take."""
    if values.notna().sum() == 0:
        return None
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    kind = _KIND.get(inferred, inferred)
    if kind == "float" and values.notna().all() and pd.api.types.is_float_dtype(values):
        return "integer" if bool((values % 1 == 0).all()) else kind
    return kind


def source_types(source: str, frame: pd.DataFrame, expected: dict[str, str]) -> SourceTypes:
    """The columns of one source whose values are of a kind the signature's type does not accept."""
    wrong = []
    present = [c for c in expected if c in frame.columns]
    for col in present:
        kind = received_kind(frame[col])
        if kind is None or kind in ACCEPTS[expected[col]]:
            continue
        examples = tuple(frame[col].dropna().astype(str).unique()[:SHOWN].tolist())
        wrong.append(WrongType(col, expected[col], kind, str(frame[col].dtype), examples))
    return SourceTypes(source, len(present), tuple(wrong))


def measure(x: ServingInputs, p: Params) -> Measurement:
    if x.expected_types is None:
        return Measurement(signed=False, sources=())
    expected = {c: t for c, t in x.expected_types.items() if c in x.features}
    return Measurement(
        signed=True, sources=tuple(source_types(name, frame, expected) for name, frame in x.frames.items())
    )


def judge(m: Measurement, p: Params) -> list[Finding]:
    """One finding per source (info when every column matches); an info note when there is no signature."""
    if not m.signed:
        return [
            Finding(severity=Severity.info, message="the model has no column signature: input types were not checked")
        ]
    findings = []
    for s in m.sources:
        detail = "; ".join(
            f"{w.column!r} expected {w.expected}, received {w.received} (e.g. {list(w.examples)})" for w in s.wrong
        )
        message = (
            f"{s.source}: {len(s.wrong)} of {s.checked} input columns do not match the model signature: {detail}"
            if s.wrong
            else f"{s.source}: all {s.checked} input columns match the model signature"
        )
        findings.append(
            judged(
                float(len(s.wrong)),
                p.columns,
                message,
                columns=[w.column for w in s.wrong],
                evidence={
                    "source": s.source,
                    "columns": {
                        w.column: {
                            "expected": w.expected,
                            "received": w.received,
                            "dtype": w.dtype,
                            "examples": list(w.examples),
                        }
                        for w in s.wrong
                    },
                },
            )
        )
    return findings
