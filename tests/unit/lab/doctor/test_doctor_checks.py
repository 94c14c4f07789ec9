"""`lab doctor`'s findings against machines described here: each problem found, with a fix."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lab.cli import run
from lab.doctor import checks
from lab.doctor.checks import Finding, Level, diagnose
from lab.doctor.machine import EngineDown, EngineInfo, parse_engine_time
from lab.kit.exit_codes import ExitCode
from tests.image_pins import COMPOSE_FILE

COMPOSE = COMPOSE_FILE.read_text(encoding="utf-8")
NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


@dataclass
class FakeMachine:
    """A machine whose every answer the test sets."""

    version: str = "27.3.1"
    compose: str | None = "2.29.7"
    memory: int = 8 * 1024**3
    free: int = 50 * 1024**3
    skew: float = 0.0
    down: bool = False
    taken: set[int] = field(default_factory=set)
    lab_ports: set[int] = field(default_factory=set)
    images: set[str] | None = None

    def engine(self) -> EngineInfo:
        if self.down:
            raise EngineDown("connection refused")
        return EngineInfo(self.version, "1.47", self.memory, "/var/lib/docker",
                          NOW + timedelta(seconds=self.skew))  # fmt: skip

    def compose_version(self) -> str | None:
        return self.compose

    def port_free(self, port: int) -> bool:
        return port not in self.taken | self.lab_ports

    def lab_publishes(self, port: int) -> bool:
        return port in self.lab_ports

    def image_present(self, image: str) -> bool:
        return self.images is None or image in self.images

    def free_bytes(self, path: str) -> int | None:
        return self.free

    def now(self) -> datetime:
        return NOW


def _diagnose(machine: FakeMachine, env: dict[str, str] | None = None) -> dict[str, Finding]:
    environment = {"RAG_ADMIN_TOKEN": "t", "LAB_ADMIN_TOKEN": "t", **(env or {})}
    findings = diagnose(machine, COMPOSE, environment, clock=lambda: NOW.timestamp())
    return {f.name: f for f in findings}


def test_a_machine_with_everything_has_no_problem() -> None:
    """Engine, compose v2, the compose file's five ports free, memory, disk, images, clock and
    the admin token: all OK."""
    found = _diagnose(FakeMachine())
    assert {f.level for f in found.values()} == {Level.OK}
    ports = [name for name in found if name.startswith("port ")]
    assert sorted(ports) == sorted(
        f"port {v} ({k})" for k, v in checks.compose_defaults(COMPOSE, "_PORT").items()
    )
    assert "APP_PORT" in " ".join(ports)


def test_an_engine_that_does_not_answer_fails_with_how_to_start_it() -> None:
    """No engine: a FAIL naming the error and how to start Docker; no image or clock check
    is attempted without it."""
    found = _diagnose(FakeMachine(down=True))
    engine = found["docker engine"]
    assert engine.level is Level.FAIL
    assert "connection refused" in engine.detail
    assert "Docker Desktop" in engine.fix
    assert not [name for name in found if name.startswith("image ") or name == "clock"]


@pytest.mark.parametrize(
    ("machine", "name", "fix"),
    [
        (FakeMachine(version="19.03.8"), "docker engine", "update Docker"),
        (FakeMachine(compose=None), "docker compose", "compose plugin"),
        (FakeMachine(compose="1.29.2"), "docker compose", "compose v2"),
    ],
)
def test_old_or_missing_docker_tools_fail(machine: FakeMachine, name: str, fix: str) -> None:
    """An engine older than the lab's oldest, compose v1 or none: FAIL with the fix."""
    finding = _diagnose(machine)[name]
    assert (finding.level, fix in finding.fix) == (Level.FAIL, True)


def test_a_taken_port_fails_naming_the_variable_to_move_it() -> None:
    """A port another program holds fails, the fix naming the compose variable; a port the
    running lab itself publishes is fine."""
    found = _diagnose(FakeMachine(taken={8000}, lab_ports={9090}))
    app = found["port 8000 (APP_PORT)"]
    assert app.level is Level.FAIL
    assert "APP_PORT=8001 in .env" in app.fix
    assert found["port 9090 (PROMETHEUS_PORT)"].level is Level.OK


def test_a_port_variable_that_is_no_port_fails_and_the_environment_wins() -> None:
    """APP_PORT from the environment replaces the compose default; one that is no number
    fails naming the variable."""
    found = _diagnose(FakeMachine(), {"APP_PORT": "eighty", "GRAFANA_PORT": "3300"})
    assert found["port eighty (APP_PORT)"].level is Level.FAIL
    assert "APP_PORT" in found["port eighty (APP_PORT)"].fix
    assert "port 3300 (GRAFANA_PORT)" in found


def test_little_memory_or_disk_and_a_drifted_clock_warn() -> None:
    """2 GiB for the engine, 1 GiB of disk, a container clock 30 s ahead: three warnings,
    each with its fix."""
    found = _diagnose(FakeMachine(memory=2 * 1024**3, free=1024**3, skew=30))
    for name, fix in (("memory", "Resources"), ("disk", "prune"), ("clock", "resync")):
        assert found[name].level is Level.WARN, name
        assert fix in found[name].fix, name
    assert "+30.0 s" in found["clock"].detail


def test_missing_images_warn_built_ones_say_build_pulled_ones_say_pull() -> None:
    """No image present: the lab's own say `docker compose build`, the others pull or a
    mirror through their variable."""
    found = _diagnose(FakeMachine(images=set()))
    built = [f for n, f in found.items() if n.startswith("image rag-observability-lab/")]
    pulled = [f for n, f in found.items() if n.startswith("image haproxy")]
    assert built
    assert all("docker compose build" in f.fix for f in built)
    assert pulled
    assert "HAPROXY_IMAGE" in pulled[0].fix


@pytest.mark.parametrize(
    ("env", "level"),
    [
        ({"RAG_ADMIN_TOKEN": "", "LAB_ADMIN_TOKEN": ""}, Level.WARN),
        ({"RAG_ADMIN_TOKEN": "a", "LAB_ADMIN_TOKEN": "b"}, Level.FAIL),
        ({"RAG_ADMIN_TOKEN": "a", "LAB_ADMIN_TOKEN": ""}, Level.WARN),
    ],
)
def test_the_admin_token_is_checked_where_commands_need_it(
    env: dict[str, str], level: Level
) -> None:
    """Unset: the admin commands would be refused; two different values: lab's is refused."""
    assert _diagnose(FakeMachine(), env)["admin token"].level is level


def test_engine_time_parses_nanoseconds_and_zones() -> None:
    """docker info's SystemTime, with nanoseconds and a zone, or nothing usable."""
    parsed = parse_engine_time("2026-12-02T06:00:01.123456789Z")
    assert parsed == NOW + timedelta(seconds=1, microseconds=123456)
    assert parse_engine_time("2026-12-02T07:00:00+01:00") == NOW
    assert parse_engine_time("") is None
    assert parse_engine_time("yesterday") is None


def test_the_command_without_a_compose_file_exits_2_naming_the_flag(tmp_path: Path) -> None:
    """`lab doctor --root DIR` where no docker-compose.yml is: exit 2 with the fix, no
    traceback."""
    out = io.StringIO()
    assert run(["doctor", "--root", str(tmp_path)], out) is ExitCode.USAGE
    assert "no docker-compose.yml" in out.getvalue()
    assert "--root DIR" in out.getvalue()


def test_the_report_fails_only_on_a_problem() -> None:
    """Warnings leave the exit code 0; one FAIL makes it 1; every fix is printed."""
    out = io.StringIO()
    warned = [Finding("disk", Level.WARN, "low", "prune")]
    assert checks_report(warned, out) is ExitCode.OK
    assert "fix: prune" in out.getvalue()
    assert checks_report([*warned, Finding("x", Level.FAIL, "bad", "do")], out) is ExitCode.FAILED


def checks_report(findings: list[Finding], out: io.StringIO) -> ExitCode:
    from lab.doctor.command import report

    return report(findings, out)
