"""Where `lab check` reads the app's log lines from: the Docker engine, a file, or stdin.

The compose stack's app container is found by its compose labels, so the check reads
the same lines a person sees with `docker compose logs app`. With several replicas
(`--scale app=3`), `of_replica` narrows the source to the one that served a request.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from lab.kit.docker_engine import EngineUnavailable, compose_containers


class LogSourceError(RuntimeError):
    """The log lines cannot be read: what went wrong, and the fix that makes them readable."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}; {fix}")
        self.problem = problem
        self.fix = fix


class LogSource(Protocol):
    @property
    def description(self) -> str:
        """Where the lines come from, for messages."""
        ...

    def lines_since(self, since: datetime) -> list[str]:
        """The app's log lines written at or after `since` (sources that cannot tell
        time return everything they have)."""
        ...

    def of_replica(self, replica: str) -> LogSource:
        """The lines of one replica (its host name, as in X-Served-By), where the source
        can tell replicas apart; else the source itself (its lines hold every replica's)."""
        ...


@dataclass
class DockerLogSource:
    """Logs of a compose service's container, read through the Docker engine."""

    project: str
    service: str = "app"
    replica: str | None = None  # a container's host name; None: the service's first container

    @property
    def description(self) -> str:
        where = f"compose service {self.service!r} (project {self.project!r})"
        if self.replica:
            return f"docker logs of replica {self.replica} of {where}"
        return f"docker logs of {where}"

    def of_replica(self, replica: str) -> DockerLogSource:
        return replace(self, replica=replica)

    def lines_since(self, since: datetime) -> list[str]:
        try:
            containers = compose_containers(self.project, self.service)
        except EngineUnavailable as exc:
            raise LogSourceError(
                exc.problem,
                fix=exc.fix
                or "read logs from a file instead: "
                "`docker compose logs --no-log-prefix app > app.log` then `--logs-file app.log`",
            ) from exc
        if not containers:
            raise LogSourceError(
                f"no running container for service {self.service!r} in compose project "
                f"{self.project!r}",
                fix="start the lab (`docker compose up -d`) or set "
                "--compose-project / LAB_COMPOSE_PROJECT",
            )
        container = containers[0]
        if self.replica:
            # Docker sets a container's host name to its short id unless told otherwise.
            serving = [
                c
                for c in containers
                if c.attrs.get("Config", {}).get("Hostname") == self.replica
                or c.id.startswith(self.replica)
            ]
            if not serving:
                raise LogSourceError(
                    f"no running container of service {self.service!r} in project "
                    f"{self.project!r} is replica {self.replica!r}",
                    fix="the replica stopped after it answered; run the check again",
                )
            container = serving[0]
        raw = container.logs(stdout=True, stderr=True, since=since, timestamps=False)
        return log_lines(raw.decode("utf-8", errors="replace"))


def log_lines(text: str) -> list[str]:
    """Split at line feeds only: ``str.splitlines`` also splits at U+2028 and \\x1c-\\x1e,
    which JSON renderers leave unescaped inside strings, and would cut a valid line in two."""
    return [line.removesuffix("\r") for line in text.split("\n") if line]


@dataclass
class FileLogSource:
    """Log lines in a file, e.g. `docker compose logs --no-log-prefix app > app.log`."""

    path: Path

    @property
    def description(self) -> str:
        return f"log file {self.path}"

    def of_replica(self, replica: str) -> FileLogSource:
        return self

    def lines_since(self, since: datetime) -> list[str]:
        try:
            return log_lines(self.path.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            raise LogSourceError(
                f"cannot read {self.path}: {exc}",
                fix=f"write the app's logs there first: "
                f"`docker compose logs --no-log-prefix app > {self.path}`",
            ) from exc


@dataclass
class StreamLogSource:
    """Log lines piped in: `docker compose logs --no-log-prefix app | lab check --logs-stdin`."""

    read: Callable[[], Iterable[str]] = lambda: sys.stdin

    @property
    def description(self) -> str:
        return "standard input"

    def of_replica(self, replica: str) -> StreamLogSource:
        return self

    def lines_since(self, since: datetime) -> list[str]:
        return [line.rstrip("\n") for line in self.read()]
