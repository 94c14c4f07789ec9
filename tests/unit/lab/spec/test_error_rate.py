"""One definition of an error (docs/error-rate.md): every error rate the lab computes, in
rules, panels and checks, divides `rag_errors_total` by `rag_requests_total` and nothing
else, and the page names every place that does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab.baseline import model as baseline
from lab.spec import SPEC
from sample_rag_app.pipeline.errors import ANSWER_LEVELS as APP_ANSWER_LEVELS
from sample_rag_app.pipeline.errors import DEGRADED_LEVELS as APP_DEGRADED_LEVELS
from sample_rag_app.pipeline.errors import ERROR_TYPES

DOC = Path(__file__).resolve().parents[4] / "docs" / "error-rate.md"
ERRORS, REQUESTS = SPEC.slo.errors_metric, SPEC.slo.total_metric
# Metric names, not the middle part of a recording rule's level:metric:operations name.
_METRIC = re.compile(r"(?<![:\w])(rag_[a-z0-9_]+)(?![:\w])")
_RECORD = re.compile(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b")
_ERROR_RECORD_PREFIX = f"job:{ERRORS.removesuffix('_total')}:"


def _records() -> dict[str, str]:
    return {r.record: r.expr for g in SPEC.rule_groups for r in g.recording}


def _uses(expr: str) -> set[str]:
    """The metrics an expression reads, following recording rules to their expressions."""
    metrics = set(_METRIC.findall(expr))
    for record in _RECORD.findall(expr):
        metrics |= _uses(_records()[record])
    return metrics


def _expressions() -> dict[str, str]:
    """Every PromQL expression of the spec, named as docs/error-rate.md names its user."""
    exprs = {f"alert {a.name}": a.expr for a in SPEC.alerts}
    exprs |= {f"record {name}": expr for name, expr in _records().items()}
    for panel in SPEC.dashboard.panels:
        for i, query in enumerate(panel.queries):
            exprs[f"panel {panel.title} #{i}"] = query.expr
    return exprs


def _error_rate_users() -> dict[str, str]:
    return {name: expr for name, expr in _expressions().items() if ERRORS in _uses(expr)}


def test_the_spec_defines_errors_over_validated_requests() -> None:
    """The availability SLO, and with it the burn-rate rules, divides errors by requests."""
    assert (ERRORS, REQUESTS) == ("rag_errors_total", "rag_requests_total")
    assert (baseline.ERRORS, baseline.REQUESTS) == (ERRORS, REQUESTS)


@pytest.mark.parametrize("name", sorted(_error_rate_users()))
def test_every_error_rate_reads_errors_and_requests_and_nothing_else(name: str) -> None:
    """An expression that reads rag_errors_total reads no metric but it and the requests."""
    assert _uses(_error_rate_users()[name]) <= {ERRORS, REQUESTS}


def test_the_error_rate_users_are_the_expected_ones() -> None:
    """HighErrorRate, the burn alerts and their records, and the error-rate panel (which the
    baseline's chart draws too)."""
    users = _error_rate_users()
    assert "alert HighErrorRate" in users
    assert {f"alert {SPEC.slo.alert_prefix}{w.name_suffix}" for w in SPEC.slo.windows} <= set(users)
    assert "panel Error Rate (%) #0" in users


def test_no_error_rate_is_computed_from_error_types_or_answers() -> None:
    """Error types are a breakdown and answers are not errors: neither is divided by the
    requests to make a second error rate."""
    for name, expr in _expressions().items():
        used = _uses(expr)
        if "rag_errors_by_type_total" in used or "rag_answers_total" in used:
            assert REQUESTS not in used, name
            assert ERRORS not in used, name


def test_degraded_answers_and_shed_requests_stay_out_of_the_error_ratio() -> None:
    """The error ratio records read only errors and requests, not answers or shed requests."""
    for record, expr in _records().items():
        if record.startswith(_ERROR_RECORD_PREFIX):
            assert _uses(expr) == {ERRORS, REQUESTS}, record


def test_the_page_names_every_user_of_the_definition() -> None:
    """docs/error-rate.md names each alert, record and panel that computes an error rate."""
    text = DOC.read_text()
    for name in _error_rate_users():
        kind, _, rest = name.partition(" ")
        subject = rest.rsplit(" #", 1)[0] if kind == "panel" else rest
        assert subject in text, f"docs/error-rate.md does not name {name}"


def test_the_page_states_the_counters_and_every_error_type_of_the_app() -> None:
    """The page names the two counters and each of the app's error types."""
    text = DOC.read_text()
    for word in (ERRORS, REQUESTS, *ERROR_TYPES):
        assert f"`{word}`" in text, word


def test_the_spec_answer_levels_are_the_apps() -> None:
    """The spec's answer and degraded levels are the app's (rag_answers_total{level})."""
    from lab.spec.rag import ANSWER_LEVELS, DEGRADED_LEVELS

    assert ANSWER_LEVELS == APP_ANSWER_LEVELS
    assert frozenset(DEGRADED_LEVELS) == APP_DEGRADED_LEVELS
