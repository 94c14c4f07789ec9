"""prometheus/rules/*.yml: one file per rule group of the spec."""

from __future__ import annotations

from typing import Any

from lab.generate._output import GeneratedFile, to_yaml
from lab.spec.model import Alert, RuleGroup, Spec, duration_seconds

RULES_DIR = "prometheus/rules"


def alert_rule(alert: Alert, runbook_base_url: str) -> dict[str, Any]:
    """One alerting rule as Prometheus reads it."""
    rule: dict[str, Any] = {"alert": alert.name, "expr": alert.expr}
    if duration_seconds(alert.for_) > 0:
        rule["for"] = alert.for_
    rule["labels"] = alert.rule_labels()
    rule["annotations"] = alert.annotations(runbook_base_url)
    return rule


def group_document(group: RuleGroup, spec: Spec) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [{"record": r.record, "expr": r.expr} for r in group.recording]
    rules += [alert_rule(a, spec.runbook_base_url) for a in group.alerts]
    return {"groups": [{"name": group.name, "rules": rules}]}


def render(spec: Spec) -> list[GeneratedFile]:
    return [
        GeneratedFile(f"{RULES_DIR}/{group.file}", to_yaml(group_document(group, spec)))
        for group in spec.rule_groups
    ]
