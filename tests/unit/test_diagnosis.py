"""The diagnosis: one root cause through the debugging hierarchy, the symptoms it explains, what to do next."""

from __future__ import annotations

from tasks.diagnosis import GENERIC, NEXT, diagnose
from tasks.report import to_html, to_markdown, verdict_table


def f(check: str, severity: str = "fail", columns: tuple[str, ...] = (), evidence: dict | None = None) -> dict:
    return {
        "check": check,
        "severity": severity,
        "message": f"{check} says so",
        "columns": list(columns),
        "evidence": evidence or {},
    }


def report(**stages: list[dict]) -> dict:
    order = ("data", "features", "training", "evaluation", "serving", "deployment", "monitoring")
    return {"stages": [{"name": n, "findings": stages.get(n, [])} for n in order]}


def relabelled(up: int, down: int) -> dict:
    return {"relabelled": {"0_to_1": up, "1_to_0": down}, "label_rate": {"reference": 0.25}}


def test_a_schema_change_is_the_cause_of_the_nulls_and_drift_it_makes():
    """Listed after its symptoms, the schema change is still the root; the symptoms are named under it."""
    d = diagnose(
        report(
            data=[f("missing_spike", columns=("x",)), f("covariate_shift", "warn"), f("schema_change", columns=("x",))]
        )
    )
    assert d["root"]["check"] == "schema_change" and d["root"]["next"] == NEXT["schema_change"]
    assert [s["check"] for s in d["symptoms"]] == ["missing_spike", "covariate_shift"]
    assert d["sentence"].startswith("Root cause in the data layer: schema_change on x. schema_change says so.")


def test_the_earliest_failing_layer_holds_the_root():
    """A broken feature pipeline comes before the monitoring alarm it causes."""
    d = diagnose(
        report(
            features=[f("normalization_skew", columns=("temp",))], monitoring=[f("feature_drift", columns=("temp",))]
        )
    )
    assert (d["root"]["layer"], d["root"]["check"]) == ("features", "normalization_skew")
    assert d["symptoms"][0]["check"] == "feature_drift"  # same column: explained


def test_labels_relabelled_one_way_are_a_definition_change_both_ways_noise():
    """Each of the two checks can explain the other: the direction of the relabelling decides."""
    for up, down, root in ((321, 0, "target_logic_changed"), (378, 112, "label_noise")):
        d = diagnose(
            report(data=[f("label_noise"), f("label_shift"), f("target_logic_changed", evidence=relabelled(up, down))])
        )
        assert d["root"]["check"] == root, (up, down)
        assert {s["check"] for s in d["symptoms"]} >= {"label_shift"}


def test_only_a_warn_only_check_can_be_the_cause_of_a_failure():
    """A wrong metric (warn by contract) explains the score failing on it; a drift warning does not outrank
    the failing prediction drift."""
    d = diagnose(report(evaluation=[f("test_score"), f("wrong_metric", "warn")]))
    assert d["root"]["check"] == "wrong_metric"
    d = diagnose(report(monitoring=[f("concept_drift"), f("prediction_drift"), f("feature_drift", "warn")]))
    assert d["root"]["check"] == "prediction_drift" and d["symptoms"][0]["check"] == "concept_drift"


def test_a_warned_run_is_diagnosed_by_what_is_new_since_the_last_good_run():
    run = report(data=[f("label_shift", "warn")], training=[f("class_imbalance", "warn")])
    assert diagnose(run)["root"]["check"] == "label_shift"
    d = diagnose(run, known=frozenset({("data", "label_shift", "warn")}))
    assert d["root"]["check"] == "class_imbalance" and d["also"][0]["check"] == "label_shift"


def test_nothing_wrong_no_diagnosis_and_an_unknown_check_gets_the_generic_step():
    assert diagnose(report(data=[f("x", "info")])) is None
    assert diagnose(report(data=[f("my_own_check")]))["root"]["next"] == GENERIC


def test_the_report_leads_with_the_diagnosis_escaped():
    r = report(data=[f("schema_change", columns=("<script>",)), f("missing_spike", columns=("<script>",))])
    r.update(
        run_id="r",
        status="failed",
        error=None,
        first_failure=None,
        changes_since_last_good={},
        provenance={"git_commit": "c", "git_dirty": False, "params_sha256": "p" * 64, "data_hashes": {}},
    )
    for s in r["stages"]:
        s.update(verdict="fail" if s["findings"] else "pass", duration_s=0.0, reason=None, artifacts=[], metrics={})
    r["diagnosis"] = diagnose(r)
    md = to_markdown(r)
    assert md.index("## Diagnosis") < md.index("| stage |") and "**Next:**" in md
    page = to_html(r)
    assert "<h2>Diagnosis</h2>" in page and "&lt;script&gt;" in page and "<script>" not in page
    assert "**Diagnosis:** Root cause in the data layer: schema_change" in verdict_table(r)
