"""`lab target discover` and `lab check` on a learner's own M2.3 stack, one the lab did not
generate (tests/integration/own_stack/): their app written to the course's notebook, their
Prometheus (job rag_pipeline, the course's four rules verbatim), their Alertmanager routing
to one channel (a webhook standing in for Slack); no lab alert sink, no lab dashboard, no
Grafana. Everything passes (Grafana's part skipped, saying why); breaking one part at a time
fails exactly that check, with a fix naming the learner's file, not the lab's.

One stack for the module: each break is undone before the next test.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from lab.cli import run
from lab.kit.clients import PrometheusClient
from lab.kit.exit_codes import ExitCode
from lab.kit.polling import poll_until
from tests.integration.conftest import _PORT_TAKEN, LabCompose, _free_port, build_once

pytestmark = pytest.mark.xdist_group("own-stack")

HERE = Path(__file__).parent / "own_stack"
SERVICES = ["rag-app", "slack-standin", "alertmanager", "prometheus"]
PORTS = {
    "rag-app": "LEARNER_APP_PORT",
    "slack-standin": "LEARNER_WEBHOOK_PORT",
    "alertmanager": "LEARNER_ALERTMANAGER_PORT",
    "prometheus": "LEARNER_PROMETHEUS_PORT",
}
#: Queries sent before the checks, so the baseline has traffic to measure.
QUERIES = 30
#: Paths of the learner's files as their Prometheus names them (what a fix must name).
PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml"
RULES_FILE = "/etc/prometheus/prometheus_alert_rules.yml"


@dataclass(frozen=True)
class Learner:
    dir: Path  # the stack's copy: its files are the learner's, broken and restored here
    urls: dict[str, str]
    target_file: Path

    @property
    def prometheus(self) -> PrometheusClient:
        return PrometheusClient(self.urls["prometheus"])

    def reload_prometheus(self, until: Any) -> None:
        self.prometheus.reload()
        poll_until(until, timeout=30, interval=0.5, describe="Prometheus reloaded")


def _start(stack_dir: Path) -> tuple[LabCompose, dict[str, str]]:
    for attempt in range(3):
        ports = {service: _free_port() for service in PORTS}
        compose = LabCompose(
            str(stack_dir),
            services=SERVICES,
            environment={
                "COMPOSE_PROJECT_NAME": f"rag-lab-learner-{uuid.uuid4().hex[:8]}",
                **{PORTS[s]: str(p) for s, p in ports.items()},
            },
        )
        try:
            compose.start()
        except subprocess.CalledProcessError as exc:
            compose.stop()
            if attempt == 2 or not any(m in exc.stderr.decode() for m in _PORT_TAKEN):
                raise
            continue
        return compose, {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def learner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Learner]:
    """The learner's stack up, scraped, with traffic; `lab target discover` run on it and
    the logs part (which discover cannot ask) added as the learner would."""
    build_once("app")  # the lab's Python image: FastAPI and prometheus_client, nothing of the lab
    stack_dir = tmp_path_factory.mktemp("learner") / "stack"
    shutil.copytree(HERE, stack_dir)
    (stack_dir / "logs").mkdir()
    os.chmod(stack_dir / "logs", 0o777)  # the app runs as a non-root user
    compose, urls = _start(stack_dir)
    try:
        prometheus = PrometheusClient(urls["prometheus"])

        def scraped(count: int) -> bool | None:
            seen = prometheus.query('rag_requests_total{job="rag_pipeline"}')
            return True if seen and seen[0].value >= count else None

        # In two halves, each awaited in a scrape: the checks measure an increase, and a
        # counter whose first sample already holds every query has increased by nothing.
        for start, stop in ((0, QUERIES // 2), (QUERIES // 2, QUERIES)):
            for i in range(start, stop):
                requests.post(
                    f"{urls['rag-app']}/query", json={"question": f"What is RAG? ({i})"}, timeout=5
                ).raise_for_status()
            poll_until(
                lambda count=stop: scraped(count),
                timeout=60,
                interval=1,
                describe=f"{stop} queries scraped",
            )
        target_file = stack_dir / "lab-target.yaml"
        said = io.StringIO()
        code = run(
            [
                "target",
                "discover",
                "--app-url",
                urls["rag-app"],
                "--prometheus-url",
                urls["prometheus"],
                "--alertmanager-url",
                urls["alertmanager"],
                "--grafana-url",
                "http://127.0.0.1:9",
                "--out",
                str(target_file),
            ],
            said,
        )
        assert code is ExitCode.OK, said.getvalue()
        with target_file.open("a") as out:
            out.write("logs:\n  kind: file\n  source: logs/app.jsonl\n")
        yield Learner(stack_dir, urls, target_file)
    finally:
        compose.stop()


def check(learner: Learner) -> dict[str, dict[str, Any]]:
    """`lab check --target FILE --json`, each check's result by name."""
    out = io.StringIO()
    run(["check", "--target", str(learner.target_file), "--json"], out)
    return {r["check"]: r for r in json.loads(out.getvalue())["checks"]}


def statuses(results: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: r["status"] for name, r in results.items()}


PASSING = {
    "scrape": "pass",
    "dashboards": "skip",
    "alerts": "pass",
    "logs": "pass",
    "baseline": "pass",
}


def test_discover_finds_the_learners_job_and_receiver(learner: Learner) -> None:
    """discover writes the job exporting rag_requests_total and the receiver a warning
    reaches, and turns Grafana off where none answers, saying so."""
    text = learner.target_file.read_text()
    written = yaml.safe_load(text)
    assert written["scrape_job"] == "rag_pipeline"
    assert written["alerting"]["receivers"] == ["team-slack"]
    assert written["alert_sink_url"] is None
    assert written["grafana"] == {"url": None}
    assert "# - Grafana: not found" in text


def test_every_check_passes_on_the_learners_stack(learner: Learner) -> None:
    """With the discovered target every check passes; Grafana's part is skipped with the
    reason; the channel got the test alert and its resolve."""
    results = check(learner)
    assert statuses(results) == PASSING, json.dumps(results, indent=1)
    assert any("Grafana not part of this stack" in e for e in results["dashboards"]["evidence"])
    run_id = next(
        e.split("lab_run=")[1].split(")")[0]
        for e in results["alerts"]["evidence"]
        if "lab_run=" in e
    )

    def resolved_at_channel() -> set[str]:
        got = requests.get(f"{learner.urls['slack-standin']}/received", timeout=5).json()
        seen = {n["status"] for n in got if n["alerts"][0]["labels"].get("lab_run") == run_id}
        assert seen == {"firing", "resolved"}, got
        return seen

    poll_until(resolved_at_channel, timeout=30, interval=0.5, describe="firing and resolved")
    for result in results.values():
        assert result["target"].startswith("my M2.3 stack")


def _only_failing(results: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    assert statuses(results) == {**PASSING, name: "fail"}, json.dumps(results, indent=1)
    fix = results[name]["fix"] or ""
    assert "lab generate" not in fix
    assert "prometheus/rules/" not in fix
    return results[name]


def test_a_removed_rule_fails_check_3_naming_the_rules_file(learner: Learner) -> None:
    """Without the course's error-rate rule only check 3 fails; its fix names the learner's
    rule file as their Prometheus loaded it."""
    rules = learner.dir / "prometheus_alert_rules.yml"
    original = rules.read_text()
    body = yaml.safe_load(original)
    body["groups"][0]["rules"] = [
        r for r in body["groups"][0]["rules"] if r["alert"] != "HighErrorRate"
    ]
    rules.write_text(yaml.safe_dump(body, sort_keys=False))  # in place: a bind-mounted file

    def rule_count(n: int) -> Any:
        return lambda: len([r for r in learner.prometheus.rules() if r.type == "alerting"]) == n

    try:
        learner.reload_prometheus(rule_count(3))
        failed = _only_failing(check(learner), "alerts")
        assert "(the course's HighErrorRate)" in failed["evidence"][-1]
        assert RULES_FILE in failed["fix"]
    finally:
        rules.write_text(original)
        learner.reload_prometheus(rule_count(4))


def test_a_receiver_answering_500_fails_check_3_naming_it(learner: Learner) -> None:
    """A channel that answers 500 fails check 3 naming its receiver, from Alertmanager's
    failed notification requests."""
    channel = learner.urls["slack-standin"]
    requests.post(f"{channel}/fail", timeout=5).raise_for_status()
    try:
        failed = _only_failing(check(learner), "alerts")
        assert "receiver team-slack did not take the test alert" in failed["evidence"][-1]
        assert failed["data"]["failed_receivers"] == ["team-slack"]
        assert "alertmanager.yml" in failed["fix"]
    finally:
        requests.post(f"{channel}/heal", timeout=5).raise_for_status()


def test_logs_without_the_id_fail_check_4(learner: Learner) -> None:
    """Log lines without request_id fail check 4 only; its fix names the learner's log file
    or target file, not the lab's app."""
    switch = learner.dir / "logs" / "no-request-id"
    switch.touch()
    try:
        failed = _only_failing(check(learner), "logs")
        assert "sample_rag_app" not in failed["fix"]
        assert "app.jsonl" in failed["fix"] or str(learner.target_file) in failed["fix"]
    finally:
        switch.unlink()


def test_a_renamed_job_fails_check_1_naming_the_prometheus_config(learner: Learner) -> None:
    """The job renamed in prometheus.yml fails check 1 only; its fix names the learner's
    prometheus.yml (as Prometheus loaded it) and the target file's scrape_job."""
    config = learner.dir / "prometheus.yml"
    original = config.read_text()
    config.write_text(original.replace("job_name: rag_pipeline", "job_name: rag_app"))

    def jobs(*names: str) -> Any:
        return lambda: {t.job for t in learner.prometheus.targets()} == {"prometheus", *names}

    try:
        learner.reload_prometheus(jobs("rag_app"))
        failed = _only_failing(check(learner), "scrape")
        assert "no active target with job='rag_pipeline'" in failed["evidence"][-1]
        assert PROMETHEUS_CONFIG in failed["fix"]
        assert str(learner.target_file) in failed["fix"]
    finally:
        config.write_text(original)
        learner.reload_prometheus(jobs("rag_pipeline"))
