"""The catalog, the score, the state file, and what ties the scenarios to the app, the
compose file and the generated configs."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.cli import run
from lab.generate import prometheus_config, scenario_variants
from lab.kit import owned_files
from lab.kit.exit_codes import ExitCode
from lab.scenario.catalog import SCENARIOS
from lab.scenario.model import CAUSES, Signal
from lab.scenario.score import FLOOR, Score
from lab.scenario.state import ScenarioState, StateError, StateStore
from lab.spec import SPEC
from sample_rag_app.pipeline.faults import RENAMED_LATENCY_METRIC, FaultConfig
from tests.unit.lab.scenario.scenario_fakes import fake_lab

ROOT = Path(__file__).resolve().parents[4]


def test_at_least_six_scenarios_cover_the_four_signals() -> None:
    """Six or more scenarios, and each of the four signals has at least one."""
    assert len(SCENARIOS) >= 6
    assert {s.signal for s in SCENARIOS.values()} == set(Signal)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_has_a_runbook_and_a_symptom_that_hides_the_cause(name: str) -> None:
    """docs/scenarios/NAME.md exists; neither the symptom nor the title names the cause."""
    scenario = SCENARIOS[name]
    assert (ROOT / scenario.runbook).is_file()
    told = f"{scenario.symptom} {scenario.title}".lower()
    assert scenario.cause not in told
    assert scenario.cause.replace("-", " ") not in told


def test_the_cause_menu_has_more_causes_than_scenarios() -> None:
    """Distractors: the menu never narrows down to the running scenario's cause."""
    used = {s.cause for s in SCENARIOS.values()}
    assert used <= set(CAUSES)
    assert len(set(CAUSES) - used) >= 3


def test_scenario_app_faults_are_fields_of_the_apps_fault_config() -> None:
    """Every app fault a scenario sets is declared in FaultConfig (what the admin API takes)."""
    for scenario in SCENARIOS.values():
        assert set(scenario.fault.app) <= set(FaultConfig.model_fields), scenario.name
        FaultConfig.model_validate(dict(scenario.fault.app))


def test_score_costs_hints_and_wrong_causes_never_below_the_floor() -> None:
    """100 less 15 a hint and 10 a wrong cause, never below the floor; time is reported."""
    assert Score(60, 0, 3, 0).points == 100
    assert Score(60, 2, 3, 1).points == 60
    assert Score(60, 3, 3, 9).points == FLOOR
    assert Score(130, 1, 3, 0).describe() == "score 85/100: diagnosed in 2m10s, 1 of 3 hints used"


def test_state_round_trips_atomically_and_a_corrupt_file_says_so(tmp_path: Path) -> None:
    """Saved state loads back equal, leaves no partial file; garbage raises StateError."""
    store = StateStore(tmp_path)
    assert store.load() is None
    state = ScenarioState(
        scenario="throttled", started_at=datetime(2026, 1, 1, tzinfo=UTC), hints_shown=2
    )
    store.save(state)
    assert store.load() == state
    assert [p.name for p in tmp_path.iterdir()] == [owned_files.STATE_FILE]
    store.path.write_text('{"scenario": 1}')
    with pytest.raises(StateError):
        store.load()
    assert store.clear() is True
    assert store.clear() is False


def _compose() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return services


def test_compose_mounts_the_state_dir_where_layout_says_and_enables_prometheus_reload() -> None:
    """app, Prometheus and Alertmanager mount LAB_STATE_DIR read-only at owned_files.MOUNT; the
    app reads its faults file there; Alertmanager starts on the variant there; Prometheus
    has its lifecycle endpoint."""
    services = _compose()
    mount = f"${{LAB_STATE_DIR:-./{owned_files.DEFAULT_DIR}}}:{owned_files.MOUNT}:ro"
    for name in ("app", "prometheus", "alertmanager"):
        assert mount in services[name]["volumes"], name
    assert services["app"]["environment"]["RAG_FAULTS_FILE"] == (
        f"{owned_files.MOUNT}/{owned_files.FAULTS_FILE}"
    )
    assert (
        f"{owned_files.MOUNT}/{owned_files.ALERTMANAGER_FILE}"
        in services["alertmanager"]["entrypoint"][2]
    )
    assert "--web.enable-lifecycle" in services["prometheus"]["command"]
    assert (ROOT / owned_files.DEFAULT_DIR / ".gitignore").is_file()


def test_prometheus_includes_the_lab_owned_scrape_files() -> None:
    """The generated prometheus.yml includes owned_files.SCRAPE_FILES, nothing else from there."""
    (config,) = prometheus_config.render(SPEC)
    assert yaml.safe_load(config.content)["scrape_config_files"] == [owned_files.SCRAPE_FILES]


def test_variants_break_only_what_their_scenario_says() -> None:
    """The duplicate job scrapes the app's target under another name; the Alertmanager
    variant is the healthy config with one dropping route first."""
    scrape = scenario_variants.duplicate_scrape_config(SPEC)["scrape_configs"][0]
    assert scrape["job_name"] != SPEC.scraping.app_job
    assert scrape["static_configs"][0]["targets"] == [SPEC.scraping.app_target]
    config = scenario_variants.dropping_route_config(SPEC)
    first = config["route"]["routes"][0]
    assert first["receiver"] == scenario_variants.DROPPING_RECEIVER
    assert scenario_variants.has_dropping_route(yaml.safe_dump(config))
    assert not scenario_variants.has_dropping_route(
        (ROOT / "alertmanager/alertmanager.yml").read_text()
    )


def test_the_renamed_metric_scenario_expects_the_apps_new_name() -> None:
    """The hint's story and the app's fault agree on the renamed histogram."""
    assert re.fullmatch(r"rag_[a-z_]+_seconds", RENAMED_LATENCY_METRIC)
    assert RENAMED_LATENCY_METRIC != "rag_query_duration_seconds"


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["scenario", "verify"], ExitCode.USAGE, "no scenario is running"),
        (["scenario", "hint"], ExitCode.USAGE, "lab scenario start NAME"),
        (["scenario", "start", "nope"], ExitCode.USAGE, "choose one of"),
        (["scenario", "list"], ExitCode.OK, "missed-page"),
        (["scenario"], ExitCode.USAGE, ""),
    ],
)
def test_cli_answers_bad_input_in_process(
    tmp_path: Path, argv: list[str], code: ExitCode, says: str
) -> None:
    """The CLI, run in-process with an empty state dir: exit codes and messages."""
    out = io.StringIO()
    assert run([*argv, "--state-dir", str(tmp_path)] if len(argv) > 1 else argv, out) == code
    assert says in out.getvalue()


def test_silent_receiver_evidence_takes_the_name_without_the_operators_prefix(
    tmp_path: Path,
) -> None:
    """On a prometheus-operator Alertmanager the dropping receiver is called
    `<namespace>/<config>/null`; the learner may name it either way, and a receiver that
    notifies someone is not offered."""
    lab = fake_lab(tmp_path)
    lab.alertmanager.config = yaml.safe_dump(
        {
            "receivers": [
                {"name": "rag-lab/rag-observability-lab/null"},
                {"name": "rag-lab/rag-observability-lab/alert-sink", "webhook_configs": [{}]},
            ]
        }
    )
    reader = SCENARIOS["silent-pager"].evidence
    assert reader is not None
    shown = reader(lab.lab)
    assert scenario_variants.DROPPING_RECEIVER in shown
    assert f"rag-lab/rag-observability-lab/{scenario_variants.DROPPING_RECEIVER}" in shown
    assert "alert-sink" not in shown
