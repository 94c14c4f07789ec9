"""The generated promtool tests: every alert pinned at its boundaries, and they pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.generate import promtool
from lab.generate.promtool import notation
from lab.spec import SPEC
from lab.spec.humanize import humanize_duration, humanize_percentage


def _groups(alert_name: str, spec: Any = SPEC) -> list[dict[str, Any]]:
    file = promtool.render_alert_tests(spec.alert(alert_name), spec)
    groups: list[dict[str, Any]] = yaml.safe_load(file.content)["tests"]
    return groups


@pytest.mark.parametrize("alert", [a.name for a in SPEC.alerts])
def test_every_alert_is_tested_firing_quiet_pending_and_resolving(alert: str) -> None:
    """Each alert has named cases for: fires after `for`, quiet inside the bound, resolves."""
    names = [g["name"] for g in _groups(alert)]
    assert all(n.startswith(alert) for n in names)
    if alert == "Watchdog":
        assert names == ["Watchdog fires from the first evaluation and never stops"]
        return
    assert any(" fires once " in n for n in names)
    assert any(" never fires " in n for n in names)
    assert any(" resolves " in n for n in names)
    assert any(" stays pending " in n for n in names)


def test_each_case_has_a_comment_naming_its_behaviour() -> None:
    """A YAML comment precedes every test group and repeats its name."""
    file = promtool.render_alert_tests(SPEC.alert("HighErrorRate"), SPEC)
    for group in yaml.safe_load(file.content)["tests"]:
        assert f"  # {group['name']}\n  - name: {group['name']}" in file.content


def test_firing_case_expects_rendered_annotations_with_value_and_threshold() -> None:
    """The firing case states the exact description Prometheus renders, value included."""
    fires = next(g for g in _groups("HighP95Latency") if " fires once " in g["name"])
    (check,) = fires["alert_rule_test"]
    assert check["eval_time"] == "6m"  # 1 step of warm-up for rate() + `for: 5m`
    (alert,) = check["exp_alerts"]
    assert alert["exp_labels"] == {"job": "rag-app", "severity": "warning"}  # all replicas
    description = alert["exp_annotations"]["description"]
    assert "Current value: 595ms; alert threshold: above 500ms for 5m." in description
    assert "{{" not in description


def test_pending_case_checks_one_step_before_the_for_duration() -> None:
    """The alert is still pending one evaluation before its `for` has passed."""
    pending = next(g for g in _groups("LowRateLimitHeadroom") if " stays pending " in g["name"])
    assert pending["alert_rule_test"] == [
        {"eval_time": "1m", "alertname": "LowRateLimitHeadroom", "exp_alerts": []}
    ]


def test_gauge_alerts_are_tested_exactly_at_the_threshold() -> None:
    """A strict `<` alert is proven quiet at exactly its threshold value."""
    quiet = next(g for g in _groups("LowRateLimitHeadroom") if " never fires " in g["name"])
    assert quiet["input_series"][0]["values"].startswith("20x")


def test_rag_app_down_is_tested_with_the_target_absent() -> None:
    """RagAppDown has a case with no rag-app series at all, expecting job=rag-app."""
    absent = next(g for g in _groups("RagAppDown") if "absent" in g["name"])
    assert [s["series"] for s in absent["input_series"]] == [
        'up{job="prometheus", instance="localhost:9090"}'
    ]
    expected = absent["alert_rule_test"][-1]["exp_alerts"][0]["exp_labels"]
    assert expected == {"job": "rag-app", "severity": "critical"}


def test_test_files_reference_rule_files_relative_to_themselves(repo_root: Path) -> None:
    """rule_files resolve from prometheus/tests/ to the committed rule files."""
    for path in (repo_root / "prometheus/tests").glob("*.yml"):
        for rule_file in yaml.safe_load(path.read_text())["rule_files"]:
            assert (path.parent / rule_file).is_file(), (path, rule_file)


def test_humanize_twins_match_prometheus_output() -> None:
    """The Python twins print like Prometheus's humanizeDuration and humanizePercentage."""
    assert humanize_duration(0.595) == "595ms"
    assert humanize_duration(1.5) == "1.5s"
    assert humanize_duration(90) == "1m 30s"
    assert humanize_duration(0) == "0s"
    assert humanize_percentage(0.1512) == "15.12%"


def test_committed_promtool_tests_pass(repo_root: Path, tool: Any) -> None:
    """`promtool test rules` passes on every committed test file."""
    tests_dir = repo_root / "prometheus/tests"
    files = sorted(p.name for p in tests_dir.glob("*.yml"))
    assert len(files) == len(SPEC.alerts)
    result = tool("promtool", "test", "rules", *files, cwd=tests_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_tests_fail_when_a_rule_drifts_from_its_tests(repo_copy: Path, tool: Any) -> None:
    """Editing a `for` duration by hand in a rule file makes the boundary tests fail."""
    rules = repo_copy / "prometheus/rules/rag_alerts.yml"
    rules.write_text(rules.read_text().replace("for: 2m", "for: 1m", 1))
    tests_dir = repo_copy / "prometheus/tests"
    result = tool("promtool", "test", "rules", "low_rate_limit_headroom.yml", cwd=tests_dir)
    assert result.returncode != 0
    assert "LowRateLimitHeadroom stays pending" in result.stdout + result.stderr


def test_a_threshold_that_makes_the_healthy_value_fire_is_rejected() -> None:
    """The generator refuses a spec whose fixture's healthy value would itself alert."""
    spec = SPEC.with_threshold("AlertmanagerNotConnected", 2)
    with pytest.raises(ValueError, match="healthy value breaches"):
        promtool.render_alert_tests(spec.alert("AlertmanagerNotConnected"), spec)


def test_breaker_alert_fires_on_a_half_open_scrape_and_holds_through_the_flapping() -> None:
    """CircuitBreakerOpen is expected firing at steps where the breaker reads half_open."""
    group = next(g for g in _groups("CircuitBreakerOpen") if " fires once " in g["name"])
    half_open = next(s for s in group["input_series"] if 'state="half_open"' in s["series"])
    samples = half_open["values"].split()
    firing_at = [int(c["eval_time"].removesuffix("m")) for c in group["alert_rule_test"]]
    assert any(samples[t] == "1" for t in firing_at)
    assert all(c["exp_alerts"] for c in group["alert_rule_test"])
    labels = group["alert_rule_test"][0]["exp_alerts"][0]["exp_labels"]
    assert "state" not in labels
    assert labels["service"] == "llm"


def test_breaker_blip_shorter_than_for_is_checked_where_it_would_have_fired() -> None:
    """The quiet case leaves `closed` for less than `for` and checks at the `for` boundary."""
    group = next(g for g in _groups("CircuitBreakerOpen") if " never fires " in g["name"])
    closed = next(s for s in group["input_series"] if 'state="closed"' in s["series"])
    assert closed["values"].split()[:2] == ["0", "1"]
    assert [c["eval_time"] for c in group["alert_rule_test"]] == ["1m", "2m"]


def test_the_course_breaker_expression_misses_a_flapping_breaker(
    repo_copy: Path, tool: Any
) -> None:
    """Watching only `state="open"`, as the course writes it, fails the flapping case: the
    half_open scrapes reset `for`. The reason the spec's rule watches "not closed"."""
    rules = repo_copy / "prometheus/rules/rag_alerts.yml"
    ours = '(rag_circuit_breaker_state{state!="closed"})'
    assert ours in rules.read_text()
    rules.write_text(rules.read_text().replace(ours, '(rag_circuit_breaker_state{state="open"})'))
    tests_dir = repo_copy / "prometheus/tests"
    result = tool("promtool", "test", "rules", "circuit_breaker_open.yml", cwd=tests_dir)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "CircuitBreakerOpen fires once the state has not been closed" in output
    assert "never fires" not in output


def test_share_fixture_keeps_the_part_inside_the_whole() -> None:
    """SustainedFallback's degraded and primary answers add up to the same traffic per step,
    the degraded share just past the alert's bound."""
    group = next(g for g in _groups("SustainedFallback") if " fires once " in g["name"])
    part, rest = group["input_series"]
    assert 'level="secondary"' in part["series"]
    assert 'level="primary"' in rest["series"]
    part_step = float(part["values"].split()[0].split("+")[1].split("x")[0])
    rest_step = float(rest["values"].split()[0].split("+")[1].split("x")[0])
    assert part_step + rest_step == notation.REQUESTS_PER_STEP
    threshold = SPEC.alert("SustainedFallback").threshold
    assert threshold is not None
    assert threshold.value < part_step / notation.REQUESTS_PER_STEP < 1.1 * threshold.value


def _percent_after(names: list[str], prefix: str) -> float:
    """The percentage printed right after `prefix` in one of the case names, as a ratio."""
    (text,) = [n.split(prefix, 1)[1].split("%", 1)[0] for n in names if prefix in n]
    return float(text) / 100


@pytest.mark.parametrize("alert", ["RetryStorm", "SustainedFallback", "LoadShedding"])
def test_resilience_alerts_are_tested_just_past_and_just_inside_their_threshold(
    alert: str,
) -> None:
    """The firing case sits just past the spec's bound and the quiet case just inside it
    (5 % off it, rounded to what the unit prints: 10.5 % and 9.5 % around 10 %; within a
    quarter of it whatever the bound)."""
    threshold = SPEC.alert(alert).threshold
    assert threshold is not None
    names = [g["name"] for g in _groups(alert)]
    firing = _percent_after(names, "fires once the value (")
    quiet = _percent_after(names, "never fires just inside the threshold (")
    bound = threshold.value
    assert bound < firing <= round(1.25 * bound, 12)
    assert round(0.75 * bound, 12) <= quiet < bound


def test_sustained_fallback_pending_case_waits_the_full_quarter_hour() -> None:
    """SustainedFallback is still pending one step before 1 warm-up step + 15m."""
    pending = next(g for g in _groups("SustainedFallback") if " stays pending " in g["name"])
    assert [c["eval_time"] for c in pending["alert_rule_test"]] == ["15m"]


def test_error_rate_is_tested_with_two_replicas_one_result_for_the_job() -> None:
    """HighErrorRate gets two-replica cases: the errors on one replica, equal traffic on
    both, one firing alert labelled by job only when the job's share is past the bound."""
    groups = {g["name"]: g for g in _groups("HighErrorRate")}
    fires = next(g for n, g in groups.items() if "one of two replicas" in n and " fires " in n)
    quiet = next(g for n, g in groups.items() if "one of two replicas" in n and "never" in n)
    instances = {notation.series_labels(s["series"])["instance"] for s in fires["input_series"]}
    assert len(instances) == 2
    (check,) = fires["alert_rule_test"]
    (alert,) = check["exp_alerts"]
    assert alert["exp_labels"] == {"job": "rag-app", "severity": "critical"}
    assert quiet["alert_rule_test"][0]["exp_alerts"] == []


def test_rag_app_down_is_tested_per_replica() -> None:
    """RagAppDown: a replica that stops answering and one that disappears each fire under
    their own instance; a replaced one never fires."""
    groups = _groups("RagAppDown")
    down, gone, replaced = (g for g in groups if "replica" in g["name"])
    for group in (down, gone):
        pending, firing = group["alert_rule_test"]
        assert pending["exp_alerts"] == []
        (alert,) = firing["exp_alerts"]
        assert alert["exp_labels"]["instance"] == "172.18.0.6:8000"
        assert "172.18.0.6:8000" in alert["exp_annotations"]["description"]
    assert gone["input_series"][2]["values"].endswith("stale")
    assert len(replaced["input_series"]) == 4
    assert all(check["exp_alerts"] == [] for check in replaced["alert_rule_test"])


def test_with_instance_needs_exactly_one_instance_label() -> None:
    """Replacing the instance of a selector without one is an error, not a silent no-op."""
    assert notation.with_instance('x{job="a", instance="b"}', "c") == ('x{job="a", instance="c"}')
    with pytest.raises(ValueError, match="no one instance"):
        notation.with_instance('x{job="a"}', "c")
