"""The PrometheusRule is compose's rules, and the ServiceMonitor gives them the labels they use."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from lab.generate.kubernetes import monitoring
from lab.spec import SPEC
from tests.unit.lab.generate.conftest import ROOT, Tool
from tests.unit.lab.generate.kubernetes.conftest import Renders

# The target labels prometheus-operator gives every ServiceMonitor target (besides job and
# instance): pkg/prometheus/promcfg.go, generateServiceMonitorConfig.
OPERATOR_TARGET_LABELS = {"namespace", "service", "pod", "container", "endpoint"}


def _expressions() -> list[str]:
    """Every PromQL expression of the spec: rules, alerts, panels."""
    rules = [r.expr for g in SPEC.rule_groups for r in g.recording]
    alerts = [a.expr for a in SPEC.alerts]
    panels = [q.expr for p in SPEC.dashboard.panels for q in p.queries]
    return rules + alerts + panels


def _extract_rule_files(k8s: Renders, root: Path) -> Path:
    """The PrometheusRule's groups as compose's rule files, beside a copy of the promtool tests."""
    groups = k8s.one("PrometheusRule")["spec"]["groups"]
    files = {g.name: g.file for g in SPEC.rule_groups}
    rules = root / "prometheus/rules"
    rules.mkdir(parents=True)
    for group in groups:
        (rules / files[group["name"]]).write_text(yaml.safe_dump({"groups": [group]}))
    shutil.copytree(ROOT / "prometheus/tests", root / "prometheus/tests")
    return rules


def test_prometheus_rule_holds_exactly_the_groups_of_the_compose_rule_files(
    k8s: Renders, repo_root: Path
) -> None:
    """Same groups, same order, same rules: what promtool tests in compose holds in a cluster."""
    compose_groups = [
        yaml.safe_load((repo_root / "prometheus/rules" / g.file).read_text())["groups"][0]
        for g in SPEC.rule_groups
    ]
    assert k8s.one("PrometheusRule")["spec"]["groups"] == compose_groups


def test_extracted_rules_pass_promtool_check(k8s: Renders, tmp_path: Path, tool: Tool) -> None:
    """`promtool check rules` accepts the PrometheusRule's groups."""
    rules = _extract_rule_files(k8s, tmp_path)
    result = tool("promtool", "check", "rules", *sorted(p.name for p in rules.iterdir()), cwd=rules)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(SPEC.rule_groups)


def test_extracted_rules_pass_the_promtool_unit_tests(
    k8s: Renders, tmp_path: Path, tool: Tool
) -> None:
    """Every alert's promtool boundary tests pass against the PrometheusRule's groups."""
    _extract_rule_files(k8s, tmp_path)
    tests = tmp_path / "prometheus/tests"
    result = tool(
        "promtool", "test", "rules", *sorted(p.name for p in tests.glob("*.yml")), cwd=tests
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILED" not in result.stdout


def test_every_job_the_expressions_select_is_the_one_the_service_monitor_sets(
    k8s: Renders,
) -> None:
    """`job="..."` in any rule, alert or panel names the app's job, which the relabelling sets
    (in a cluster the default job is the Service's name; Prometheus's own job differs)."""
    selected = {job for expr in _expressions() for job in re.findall(r'job="([^"]+)"', expr)}
    assert selected == {SPEC.scraping.app_job}
    endpoint = k8s.one("ServiceMonitor")["spec"]["endpoints"][0]
    assert {
        "action": "replace",
        "targetLabel": "job",
        "replacement": SPEC.scraping.app_job,
    } in endpoint["relabelings"]


def test_operator_target_labels_that_the_expressions_use_are_dropped(k8s: Renders) -> None:
    """A target label the app's metrics also carry (`service`) is dropped, so the metric's own
    value survives instead of being renamed `exported_service`."""
    used = {
        label
        for expr in _expressions()
        for group in re.findall(r"(?:by|without) \(([^)]*)\)", expr)
        for label in re.split(r",\s*", group)
    }
    used |= {
        label
        for alert in SPEC.alerts
        for text in (alert.summary, alert.description)
        for label in re.findall(r"\$labels\.(\w+)", text)
    }
    clashing = used & OPERATOR_TARGET_LABELS
    assert clashing == {"service"}
    endpoint = k8s.one("ServiceMonitor")["spec"]["endpoints"][0]
    drops = [r["regex"] for r in endpoint["relabelings"] if r["action"] == "labeldrop"]
    assert all(any(re.fullmatch(regex, label) for regex in drops) for label in clashing)
    assert not any(re.fullmatch(regex, "job") or re.fullmatch(regex, "instance") for regex in drops)


def test_service_monitor_scrapes_the_app_service_at_the_spec_interval(k8s: Renders) -> None:
    """It selects the app's Service by its labels, on its named port, every 5 s as in compose."""
    service = k8s.one("Service", "app")
    monitor = k8s.one("ServiceMonitor")["spec"]
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    endpoint = monitor["endpoints"][0]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["interval"] == SPEC.scraping.app_scrape_interval
    assert endpoint["scrapeTimeout"] == SPEC.scraping.app_scrape_interval
    assert endpoint["path"] == "/metrics"


def test_rule_and_monitor_carry_the_release_label_kube_prometheus_stack_selects(
    k8s: Renders,
) -> None:
    """kube-prometheus-stack's default ruleSelector/serviceMonitorSelector: release=<release>."""
    for kind in ("PrometheusRule", "ServiceMonitor"):
        assert k8s.one(kind)["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_chart_values_point_alertmanager_and_grafana_at_the_lab(k8s: Renders) -> None:
    """The values file sets the matcher strategy the lab's route relies on and names the
    datasource uid the dashboard's panels use."""
    values = k8s.files[monitoring.VALUES_PATH]
    spec = values["alertmanager"]["alertmanagerSpec"]
    assert spec["alertmanagerConfigMatcherStrategy"] == {"type": "None"}
    assert values["grafana"]["sidecar"]["datasources"]["uid"] == SPEC.datasource_uid
    assert "exemplar-storage" in values["prometheus"]["prometheusSpec"]["enableFeatures"]


def test_chart_values_leave_alertmanager_config_discovery_to_every_namespace(
    k8s: Renders,
) -> None:
    """The chart's default namespace selector, `{}`, already takes the lab's AlertmanagerConfig
    (prometheus-operator reads only a null selector as "its own namespace"); any selector
    the lab set would narrow discovery for every other team's AlertmanagerConfig too."""
    spec = k8s.files[monitoring.VALUES_PATH]["alertmanager"]["alertmanagerSpec"]
    assert "alertmanagerConfigNamespaceSelector" not in spec
    assert "alertmanagerConfigSelector" not in spec
