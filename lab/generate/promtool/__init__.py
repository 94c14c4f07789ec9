"""prometheus/tests/*.yml: `promtool test rules` files that pin every alert at its boundaries.

For each alert the spec's fixture says how to make the alert's query take a value; its kind
(`fixtures`) turns values into input series and picks the families of cases (`cases`) that
test it: from the threshold and the `for` duration they derive the inputs, so a threshold
changed in the spec moves them along. The alert's own extras (`also_absent`,
`also_replicas`) add their families to every kind.
"""

from __future__ import annotations

import re

import yaml

from lab.generate._output import GeneratedFile, YamlDumper, to_yaml
from lab.generate.prometheus_rules import RULES_DIR
from lab.generate.promtool.cases import absent_cases, replica_cases
from lab.generate.promtool.fixtures import fixture_for
from lab.generate.promtool.interface import Case
from lab.generate.promtool.notation import STEP_MINUTES
from lab.spec.model import Alert, Spec

TESTS_DIR = "prometheus/tests"


def test_cases(alert: Alert, runbook_base_url: str) -> list[Case]:
    """(comment, test group) pairs for one alert; the comment doubles as the group's name."""
    out = fixture_for(alert).cases(alert, runbook_base_url)
    if alert.also_absent is not None:
        out += absent_cases(alert, alert.also_absent, runbook_base_url)
    if alert.also_replicas is not None:
        out += replica_cases(alert, alert.also_replicas, runbook_base_url)
    return out


def file_name(alert: Alert) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", alert.name).lower()
    return f"{TESTS_DIR}/{snake}.yml"


def render_alert_tests(alert: Alert, spec: Spec) -> GeneratedFile:
    rule_files = [f"../rules/{g.file}" for g in spec.rule_groups]
    head = {"rule_files": rule_files, "evaluation_interval": f"{STEP_MINUTES}m"}
    text = to_yaml(
        head,
        comment=f"Boundary tests for the {alert.name} alert ({RULES_DIR}).\n"
        f"Run: cd {TESTS_DIR} && promtool test rules *.yml",
    )
    text += "tests:\n"
    for comment, group in test_cases(alert, spec.runbook_base_url):
        body = yaml.dump(
            [{"name": comment, **group}],
            Dumper=YamlDumper,
            sort_keys=False,
            default_flow_style=False,
            width=1000,
        )
        text += f"  # {comment}\n" + "".join(f"  {line}\n" for line in body.splitlines())
    return GeneratedFile(file_name(alert), text)


def render(spec: Spec) -> list[GeneratedFile]:
    return [render_alert_tests(alert, spec) for alert in spec.alerts]
