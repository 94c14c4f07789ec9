"""The machine as `lab doctor` reads it: one small interface, so the checks are tested
against a machine described in the test, and the real one only answers for itself.

Every probe works the same on Windows, macOS and Linux: the engine through the `docker`
package (named pipe or socket, as `docker` itself finds it), compose as `docker compose`,
ports by binding 127.0.0.1 (where the lab publishes), disk with `shutil.disk_usage`.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol


class EngineDown(RuntimeError):
    """The Docker engine did not answer (not installed, not started, no permission)."""


@dataclass(frozen=True)
class EngineInfo:
    """What the engine says of itself (`docker version`, `docker info`)."""

    version: str
    api_version: str
    memory_bytes: int
    root_dir: str
    system_time: datetime | None


class Machine(Protocol):
    def engine(self) -> EngineInfo: ...

    def compose_version(self) -> str | None: ...

    def port_free(self, port: int) -> bool: ...

    def lab_publishes(self, port: int) -> bool: ...

    def image_present(self, image: str) -> bool: ...

    def free_bytes(self, path: str) -> int | None: ...

    def now(self) -> datetime: ...


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")


def parse_engine_time(text: str) -> datetime | None:
    """`docker info`'s SystemTime (RFC 3339, nanoseconds) as an aware datetime."""
    found = _RFC3339.match(text.strip())
    if found is None:
        return None
    seconds, fraction, zone = found.groups()
    zone = "+00:00" if zone in (None, "Z") else zone
    return datetime.fromisoformat(f"{seconds}.{(fraction or '0')[:6].ljust(6, '0')}{zone}")


class LocalMachine:
    """This machine, and the engine the `docker` command would use."""

    def __init__(self, compose_project: str) -> None:
        self.compose_project = compose_project
        self._client: Any = None

    def _docker(self) -> Any:
        if self._client is None:
            try:
                import docker
                from docker.errors import DockerException
            except ImportError as exc:
                raise EngineDown("the `docker` Python package is missing") from exc
            try:
                self._client = docker.from_env(timeout=5)
                self._client.ping()
            except (DockerException, OSError) as exc:
                self._client = None
                raise EngineDown(str(exc)) from exc
        return self._client

    def engine(self) -> EngineInfo:
        from docker.errors import DockerException

        client = self._docker()
        try:
            version = client.version()
            info = client.info()
        except (DockerException, OSError) as exc:
            raise EngineDown(str(exc)) from exc
        return EngineInfo(
            version=str(version.get("Version", "?")),
            api_version=str(version.get("ApiVersion", "?")),
            memory_bytes=int(info.get("MemTotal") or 0),
            root_dir=str(info.get("DockerRootDir") or ""),
            system_time=parse_engine_time(str(info.get("SystemTime") or "")),
        )

    def compose_version(self) -> str | None:
        if shutil.which("docker") is None:
            return None
        try:
            done = subprocess.run(
                ["docker", "compose", "version", "--short"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() or None if done.returncode == 0 else None

    def port_free(self, port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True

    def lab_publishes(self, port: int) -> bool:
        try:
            containers = self._docker().containers.list(
                filters={"label": f"com.docker.compose.project={self.compose_project}"}
            )
        except (EngineDown, OSError):
            return False
        for container in containers:
            for bindings in (container.attrs["NetworkSettings"].get("Ports") or {}).values():
                if any(str(b.get("HostPort")) == str(port) for b in bindings or ()):
                    return True
        return False

    def image_present(self, image: str) -> bool:
        from docker.errors import DockerException, ImageNotFound

        try:
            self._docker().images.get(image)
        except ImageNotFound:
            return False
        except (DockerException, EngineDown, OSError):
            return False
        return True

    def free_bytes(self, path: str) -> int | None:
        target = Path(path)
        while not target.exists() and target != target.parent:
            target = target.parent
        try:
            return shutil.disk_usage(target).free
        except OSError:
            return None

    def now(self) -> datetime:
        return datetime.now().astimezone()
