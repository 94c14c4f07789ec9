"""The findings of `lab doctor`, from what the machine answers (`Machine`) and what the
compose file asks for (its `${VARIABLE:-default}` ports and images, the one place they are
written; a variable set in the environment or in `.env` wins, as compose would read it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from lab.doctor.machine import EngineDown, EngineInfo, Machine

#: The oldest engine and compose the lab is tested with (CI's Debian packages).
MIN_ENGINE = (20, 10)
MIN_COMPOSE = (2, 0)
#: The stack's containers together, with room for a second one (the tests, a rebuild).
MIN_MEMORY_BYTES = 4 * 1024**3
#: The images (about 1.5 GiB), a rebuild's layers, the volumes' data for a few days.
MIN_DISK_BYTES = 5 * 1024**3
#: The checks compare timestamps with the containers' (alerts `since`, log windows).
MAX_CLOCK_SKEW_SECONDS = 2.0
#: Images compose builds itself from the Dockerfile (never pulled).
BUILT_IMAGES = ("LAB_PYTHON_IMAGE", "LAB_TOOLS_IMAGE")
ADMIN_COMMANDS = "`lab drill`, `lab experiment` and `lab scenario`"

_DEFAULT = re.compile(r"\$\{([A-Z][A-Z0-9_]*):-([^}]+)\}")


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    """One thing checked: what was found and, unless all is well, how to fix it."""

    name: str
    level: Level
    detail: str
    fix: str = ""


def read_dotenv(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines of compose's `.env` (comments and blank lines skipped)."""
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            values[key.strip()] = value.strip().strip("'\"")
    return values


def compose_defaults(compose_text: str, suffix: str) -> dict[str, str]:
    """`{VARIABLE: default}` of the compose file's variables ending in `suffix`."""
    return {k: v for k, v in _DEFAULT.findall(compose_text) if k.endswith(suffix)}


def _version(text: str) -> tuple[int, ...]:
    found = re.match(r"v?(\d+)\.(\d+)", text)
    return (int(found[1]), int(found[2])) if found else (0, 0)


def _gib(n: int) -> str:
    return f"{n / 1024**3:.1f} GiB"


def engine_finding(engine: EngineInfo | None, down: str) -> Finding:
    if engine is None:
        return Finding(
            "docker engine",
            Level.FAIL,
            f"does not answer ({down})",
            "start Docker (Docker Desktop on Windows and macOS; on Linux `sudo systemctl start"
            " docker`, and `sudo usermod -aG docker $USER` then log in again for permission)",
        )
    if _version(engine.version) < MIN_ENGINE:
        return Finding(
            "docker engine",
            Level.FAIL,
            f"{engine.version} is older than {'.'.join(map(str, MIN_ENGINE))}",
            "update Docker Desktop or Docker Engine",
        )
    return Finding("docker engine", Level.OK, f"{engine.version} (API {engine.api_version})")


def compose_finding(version: str | None) -> Finding:
    if version is None:
        return Finding(
            "docker compose",
            Level.FAIL,
            "`docker compose` (v2) is missing",
            "install the compose plugin (Docker Desktop has it; Debian/Ubuntu: apt-get install"
            " docker-compose-plugin); the old `docker-compose` v1 is not supported",
        )
    if _version(version) < MIN_COMPOSE:
        return Finding("docker compose", Level.FAIL, f"{version} is not v2", "install compose v2")
    return Finding("docker compose", Level.OK, version)


def port_findings(machine: Machine, ports: Mapping[str, str]) -> list[Finding]:
    found = []
    for variable, value in sorted(ports.items()):
        name = f"port {value} ({variable})"
        if not value.isdigit() or not 1 <= int(value) <= 65535:
            found.append(
                Finding(
                    name,
                    Level.FAIL,
                    f"{variable}={value!r} is not a TCP port",
                    f"set {variable} to a number from 1024 to 65535 (in .env)",
                )
            )
        elif machine.port_free(int(value)):
            found.append(Finding(name, Level.OK, "free on 127.0.0.1"))
        elif machine.lab_publishes(int(value)):
            found.append(Finding(name, Level.OK, "published by the running lab"))
        else:
            found.append(
                Finding(
                    name,
                    Level.FAIL,
                    "taken by another program on 127.0.0.1",
                    f"stop the program that listens on {value}, or give the lab another port:"
                    f" {variable}={int(value) + 1} in .env (next to docker-compose.yml)",
                )
            )
    return found


def resources_findings(
    engine: EngineInfo | None, free_bytes: int | None, where: str
) -> list[Finding]:
    found = []
    if engine is not None and engine.memory_bytes:
        if engine.memory_bytes < MIN_MEMORY_BYTES:
            found.append(
                Finding(
                    "memory",
                    Level.WARN,
                    f"the engine has {_gib(engine.memory_bytes)},"
                    f" the lab wants {_gib(MIN_MEMORY_BYTES)}",
                    "give Docker more memory (Docker Desktop: Settings > Resources; WSL 2: memory="
                    " in %UserProfile%\\.wslconfig, then `wsl --shutdown`)",
                )
            )
        else:
            found.append(Finding("memory", Level.OK, f"{_gib(engine.memory_bytes)} for the engine"))
    if free_bytes is not None:
        if free_bytes < MIN_DISK_BYTES:
            found.append(
                Finding(
                    "disk",
                    Level.WARN,
                    f"{_gib(free_bytes)} free at {where}, the lab wants {_gib(MIN_DISK_BYTES)}",
                    "free some space: `docker system prune` removes stopped containers and"
                    " unused images",
                )
            )
        else:
            found.append(Finding("disk", Level.OK, f"{_gib(free_bytes)} free at {where}"))
    return found


def image_findings(machine: Machine, images: Mapping[str, str]) -> list[Finding]:
    found = []
    for variable, image in sorted(images.items()):
        name = f"image {image}"
        if machine.image_present(image):
            found.append(Finding(name, Level.OK, "present"))
        elif variable in BUILT_IMAGES:
            found.append(
                Finding(
                    name,
                    Level.WARN,
                    "not built yet",
                    "`docker compose build` (or `docker compose up` builds it)",
                )
            )
        else:
            found.append(
                Finding(
                    name,
                    Level.WARN,
                    "not present: `docker compose up` pulls it from its registry",
                    f"`docker compose pull`; without registry access, set {variable} to a mirror's"
                    ' copy or build a stand-in (README, "Offline images")',
                )
            )
    return found


def clock_finding(engine: EngineInfo | None, before: float, after: float) -> Finding | None:
    """The engine's clock against this machine's, the round trip taken off."""
    if engine is None or engine.system_time is None:
        return None
    skew = engine.system_time.timestamp() - (before + after) / 2
    slack = (after - before) / 2
    if abs(skew) - slack > MAX_CLOCK_SKEW_SECONDS:
        return Finding(
            "clock",
            Level.WARN,
            f"the containers' clock is {skew:+.1f} s off this machine's",
            "resync it: restart Docker Desktop (after a laptop's sleep its VM's clock lags), or"
            " `wsl --shutdown` on WSL 2; on Linux enable NTP (`timedatectl set-ntp true`)",
        )
    return Finding("clock", Level.OK, f"containers within {abs(skew):.1f} s of this machine")


def admin_token_finding(environment: Mapping[str, str]) -> Finding:
    app, lab = environment.get("RAG_ADMIN_TOKEN", ""), environment.get("LAB_ADMIN_TOKEN", "")
    if not app and not lab:
        return Finding(
            "admin token",
            Level.WARN,
            f"not set: {ADMIN_COMMANDS} change the app through its admin API, which is off",
            "put one random value in .env as RAG_ADMIN_TOKEN=... (the app reads it; `docker compose"
            " up -d` again) and set LAB_ADMIN_TOKEN to the same value where `lab` runs",
        )
    if app and lab and app != lab:
        return Finding(
            "admin token",
            Level.FAIL,
            "RAG_ADMIN_TOKEN and LAB_ADMIN_TOKEN differ",
            "give both the same value (the app checks lab's against its own)",
        )
    if not lab:
        return Finding(
            "admin token",
            Level.WARN,
            "RAG_ADMIN_TOKEN is set, LAB_ADMIN_TOKEN is not",
            f"set LAB_ADMIN_TOKEN to the same value for {ADMIN_COMMANDS}",
        )
    return Finding("admin token", Level.OK, f"set for {ADMIN_COMMANDS}")


def diagnose(
    machine: Machine,
    compose_text: str,
    environment: Mapping[str, str],
    clock: Callable[[], float],
) -> list[Finding]:
    """Every finding, the engine's first: the later ones need it."""
    down = ""
    before = clock()
    try:
        engine: EngineInfo | None = machine.engine()
    except EngineDown as exc:
        engine, down = None, str(exc)
    after = clock()
    findings = [engine_finding(engine, down), compose_finding(machine.compose_version())]
    ports = {k: environment.get(k, v) for k, v in compose_defaults(compose_text, "_PORT").items()}
    findings += port_findings(machine, ports)
    findings += resources_findings(
        engine,
        machine.free_bytes(engine.root_dir) if engine and engine.root_dir else None,
        engine.root_dir if engine else "",
    )
    if engine is not None:
        images = {
            k: environment.get(k, v) for k, v in compose_defaults(compose_text, "_IMAGE").items()
        }
        findings += image_findings(machine, images)
        clock_result = clock_finding(engine, before, after)
        if clock_result is not None:
            findings.append(clock_result)
    findings.append(admin_token_finding(environment))
    return findings
