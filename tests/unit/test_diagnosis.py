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


def test_a_gap_the_seeds_could_close_is_instability_a_wider_one_memorising():
    """A train-validation gap past its limit by no more than the retrains' seeds move the validation score: the
    instability (warn by contract) explains the overfitting verdict. Past it by far more, the model memorises its
    rows, and the seeds' spread is one symptom of it. Without that evidence the warn-only cause stays the root."""
    cases = (
        ({"gap": 0.053, "gap_limit": 0.05}, {"spread": 0.08}, "unstable_training"),
        ({"gap": 0.42, "gap_limit": 0.05}, {"spread": 0.015}, "overfitting"),
        ({}, {}, "unstable_training"),
    )
    for fit, seeds, root in cases:
        overfit, unstable = f("overfitting", evidence=fit), f("unstable_training", "warn", evidence=seeds)
        for findings in ([unstable, overfit], [overfit, unstable, f("simpler_model", "warn")]):
            d = diagnose(report(training=findings))
            assert d["root"]["check"] == root, (fit, seeds, [x["check"] for x in findings])
            assert {s["check"] for s in d["symptoms"]} == {x["check"] for x in findings} - {root}


def drift(value: float, fail: float | None = 0.5) -> dict:
    """A prediction drift's evidence: the normed Wasserstein distance of the served scores and its limits."""
    return {"value": value, "warn": 0.2, "fail": fail, "method": "wasserstein", "served_rows": 100, "rows": 100}


def test_a_collapse_of_confidence_explains_the_small_score_drift_it_makes():
    """Scores drawn toward 0.5 move the score distribution: with the drift below its fail line, the collapse is
    the root and the drift (and its daily windows) its symptoms, whichever is listed first."""
    collapse = f("confidence_collapse", "warn", evidence={"value": 0.25, "lost": 0.26, "warn": 0.1, "fail": None})
    for value, fail in ((0.4, 0.5), (0.9, None)):  # no fail line: any drift is within the warn band
        shifted, windows = f("prediction_drift", "warn", evidence=drift(value, fail)), f("window_drift", "warn")
        for findings in ([shifted, windows, collapse], [collapse, shifted, windows]):
            d = diagnose(report(monitoring=findings))
            assert d["root"]["check"] == "confidence_collapse", (value, [x["check"] for x in findings])
            assert [s["check"] for s in d["symptoms"]] == [x["check"] for x in findings if x is not collapse]


def test_a_prediction_drift_past_its_fail_line_or_with_confidence_intact_stays_the_root():
    """A drift past its fail line is more than a loss of confidence: the collapse warning beside it is one of its
    symptoms, not the cause of the failure. With confidence intact (the collapse check at info) or the drift
    not measured, nothing makes the drift a symptom of a collapse."""
    collapse = f("confidence_collapse", "warn", evidence={"value": 0.4, "lost": 0.41, "warn": 0.1, "fail": None})
    d = diagnose(report(monitoring=[collapse, f("prediction_drift", evidence=drift(0.69)), f("concept_drift")]))
    assert d["root"]["check"] == "prediction_drift"
    assert {s["check"] for s in d["symptoms"]} == {"confidence_collapse", "concept_drift"}
    intact = f("confidence_collapse", "info", evidence={"value": 0.01, "lost": 0.02, "warn": 0.1, "fail": None})
    d = diagnose(report(monitoring=[intact, f("prediction_drift", "warn", evidence=drift(0.4))]))
    assert d["root"]["check"] == "prediction_drift" and d["symptoms"] == d["also"] == []
    unmeasured = f("prediction_drift", "warn", evidence={"served_rows": 0, "rows": 100})
    for findings in ([unmeasured, collapse], [collapse, unmeasured]):
        assert diagnose(report(monitoring=findings))["symptoms"] == []


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


def test_every_built_in_check_says_what_to_do_next():
    """The report page puts a next step under every warning and failure: no built-in check falls back to the
    generic one."""
    import importlib

    from tasks.diagnosis import NEXT
    from tasks.params import LAYERS

    names = {c.name for layer in LAYERS for c in importlib.import_module(f"tasks.{layer}.checks").CHECKS}
    assert names - set(NEXT) == set()


def test_a_latency_budget_warning_is_not_the_root_of_a_later_layers_problem() -> None:
    """On a busy machine the absolute latency budget warns; a new monitoring warning in the same run is the root,
    the budget only a finding beside it."""
    from tasks.diagnosis import diagnose

    report = {
        "stages": [
            {"name": "deployment", "findings": [{"check": "latency_budget", "severity": "warn", "message": "slow"}]},
            {"name": "monitoring", "findings": [{"check": "confidence_collapse", "severity": "warn", "message": "x"}]},
        ]
    }
    assert diagnose(report)["root"]["check"] == "confidence_collapse"
    alone = {"stages": report["stages"][:1]}
    assert diagnose(alone)["root"]["check"] == "latency_budget"
