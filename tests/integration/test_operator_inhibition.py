"""A real Alertmanager on the configuration prometheus-operator would assemble in a cluster.

kube-prometheus-stack's default configuration with the lab's AlertmanagerConfig added
(tests/operator_assembly.py), run by the pinned Alertmanager image. Alerts are posted and
read back with its own amtool, inside its container, so no port is published: another
team's warning stays routed to the cluster's receiver and un-muted while critical alerts
fire, the lab's own and another team's, and the inhibitions the lab means still mute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from testcontainers.core.container import DockerContainer

from lab.generate import kubernetes
from lab.generate.kubernetes import monitoring
from lab.kit.polling import poll_until
from lab.spec import SPEC
from tests import operator_assembly
from tests.image_pins import image

# A container of its own, no compose stack: any worker may run it.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("operator-inhibition")]

CONFIG_PATH = "/etc/alertmanager/alertmanager.yml"
AMTOOL = ["amtool", "--alertmanager.url=http://127.0.0.1:9093"]
Labels = dict[str, str]

OTHER_CRITICAL = {
    "alertname": "NodeFilesystemSpaceFillingUp", "severity": "critical", "namespace": "monitoring",
}  # fmt: skip
OTHER_WARNING = OTHER_CRITICAL | {"severity": "warning", "namespace": "other"}
# Muted by the chart's own rule (same namespace and name): proves a mute can be seen here.
OTHER_WARNING_SAME_NAMESPACE = OTHER_WARNING | {"namespace": OTHER_CRITICAL["namespace"]}
LAB_CRITICAL = {"alertname": "RagAppDown", "severity": "critical"}
SLO = {"slo": SPEC.slo.name}
LAB_PAGE = {"alertname": "RagErrorBudgetBurnFast", "severity": "critical", **SLO}
LAB_TICKET = {"alertname": "RagErrorBudgetBurnTicket", "severity": "warning", **SLO}
FIRING = [OTHER_CRITICAL, LAB_CRITICAL, LAB_PAGE]
TARGETS = [OTHER_WARNING, OTHER_WARNING_SAME_NAMESPACE, LAB_TICKET]


def _assembled() -> bytes:
    files = {f.path: yaml.safe_load(f.content) for f in kubernetes.render(SPEC)}
    (config,) = (d for d in files.values() if d.get("kind") == "AlertmanagerConfig")
    values = files[monitoring.VALUES_PATH]["alertmanager"]["alertmanagerSpec"]
    strategy = values["alertmanagerConfigMatcherStrategy"]["type"]
    assembled = operator_assembly.assemble(config, SPEC.kubernetes.namespace, strategy)
    return yaml.safe_dump(assembled).encode()


def _run(container: DockerContainer, *args: str) -> str:
    result = container.exec([*AMTOOL, *args])
    output = result.output.decode()
    assert result.exit_code == 0, (args, output)
    return output


def _answers(container: DockerContainer) -> bool:
    return container.exec([*AMTOOL, "config", "show"]).exit_code == 0


@pytest.fixture(scope="module")
def alertmanager() -> Iterator[DockerContainer]:
    """The pinned Alertmanager on the assembled configuration, answering amtool."""
    container = (
        DockerContainer(image("ALERTMANAGER_IMAGE"))
        .with_copy_into_container(_assembled(), CONFIG_PATH)
        .with_command(
            [f"--config.file={CONFIG_PATH}", "--storage.path=/tmp", "--cluster.listen-address="]
        )
    )
    with container:
        poll_until(lambda: _answers(container), timeout=30, describe="Alertmanager answers")
        yield container


def _alerts(container: DockerContainer) -> dict[str, dict[str, Any]]:
    """Every alert Alertmanager holds, active or muted, by its labels: its state, what
    inhibits it, and the receivers it routes to."""
    active = _run(container, "--output=json", "alert", "query")
    muted = _run(container, "--output=json", "alert", "query", "--inhibited")
    return {_key(a["labels"]): a for a in [*json.loads(active), *json.loads(muted)]}


def _key(labels: Labels) -> str:
    return json.dumps(labels, sort_keys=True)


def test_another_teams_warning_stays_routed_and_unmuted_while_criticals_fire(
    alertmanager: DockerContainer,
) -> None:
    """While another team's critical and the lab's criticals fire, a warning of the same name
    in another namespace is active (muted by no rule) and routed to the cluster's receiver;
    the same warning in the critical's namespace is muted by it (the chart's rule), and the
    lab's SLO ticket by the lab's page."""
    for labels in [*FIRING, *TARGETS]:
        _run(alertmanager, "alert", "add", *(f"{k}={v}" for k, v in labels.items()))
    muted = [OTHER_WARNING_SAME_NAMESPACE, LAB_TICKET]

    def all_muted() -> dict[str, dict[str, Any]] | None:
        alerts = _alerts(alertmanager)
        ready = all(_key(t) in alerts for t in [*FIRING, *TARGETS]) and all(
            alerts[_key(t)]["status"]["state"] == "suppressed" for t in muted
        )
        return alerts if ready else None

    alerts = poll_until(all_muted, timeout=30, interval=0.5, describe="the expected mutes")
    other = alerts[_key(OTHER_WARNING)]
    assert (other["status"]["state"], other["status"]["inhibitedBy"]) == ("active", [])
    assert [r["name"] for r in other["receivers"]] == ["null"]
    for labels in FIRING:
        assert alerts[_key(labels)]["status"]["state"] == "active", labels
    critical = alerts[_key(OTHER_CRITICAL)]["fingerprint"]
    assert alerts[_key(OTHER_WARNING_SAME_NAMESPACE)]["status"]["inhibitedBy"] == [critical]
    page = alerts[_key(LAB_PAGE)]["fingerprint"]
    assert alerts[_key(LAB_TICKET)]["status"]["inhibitedBy"] == [page]


def test_the_running_configuration_is_the_assembled_one(alertmanager: DockerContainer) -> None:
    """What the Alertmanager loaded carries the lab's inhibit rules after the chart's, with
    the lab's receivers under the operator's prefix."""
    loaded = yaml.safe_load(_run(alertmanager, "config", "show"))
    expected = yaml.safe_load(_assembled())
    assert len(loaded["inhibit_rules"]) == len(expected["inhibit_rules"])
    prefix = f"{SPEC.kubernetes.namespace}/"
    lab_receivers = [r["name"] for r in loaded["receivers"] if r["name"].startswith(prefix)]
    assert lab_receivers == [r["name"] for r in expected["receivers"][1:]]
