"""Where `lab check` reads the app's log lines from: a compose service or a container
(through the Docker engine), a file, a command (`kubectl logs deploy/rag`), or stdin.

The compose stack's app container is found by its compose labels, so the check reads
the same lines a person sees with `docker compose logs app`. With several replicas
(`--scale app=3`), `of_replica` narrows the source to the one that served a request.
A learner's stack names its source in the target file (`logs.kind`, `logs.source`);
`log_source_for` turns that into one of these.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lab.kit.docker_engine import EngineUnavailable, compose_containers, named_container

if TYPE_CHECKING:
    from lab.kit.target import Target

#: How long a log command (`kubectl logs ...`) may take before the check gives up on it.
COMMAND_TIMEOUT_SECONDS = 30.0


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
class ContainerLogSource:
    """Logs of one container by name (`docker logs NAME`), for a stack not run by compose."""

    name: str
    #: Where the name was configured, for the fix (a learner's target file).
    configured_in: str = "--logs-container"

    @property
    def description(self) -> str:
        return f"docker logs of container {self.name!r}"

    def of_replica(self, replica: str) -> ContainerLogSource:
        return self

    def lines_since(self, since: datetime) -> list[str]:
        try:
            container = named_container(self.name)
        except EngineUnavailable as exc:
            raise LogSourceError(
                exc.problem,
                fix=exc.fix
                or f"read the logs from a file or a command instead ({self.configured_in})",
            ) from exc
        if container is None:
            raise LogSourceError(
                f"no container named {self.name!r} on this Docker engine",
                fix=f"`docker ps --format '{{{{.Names}}}}'` lists the names; set logs.source "
                f"in {self.configured_in} to your app's container",
            )
        raw = container.logs(stdout=True, stderr=True, since=since, timestamps=False)
        return log_lines(raw.decode("utf-8", errors="replace"))


@dataclass
class FileLogSource:
    """Log lines in a file, e.g. `docker compose logs --no-log-prefix app > app.log`, or the
    file a learner's app writes its JSON lines to."""

    path: Path
    #: The fix when the file cannot be read; default: how to write the lab's app logs there.
    unreadable_fix: str | None = None

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
                fix=self.unreadable_fix
                or f"write the app's logs there first: "
                f"`docker compose logs --no-log-prefix app > {self.path}`",
            ) from exc


@dataclass
class CommandLogSource:
    """The output of a command that prints the app's logs, e.g. `kubectl logs deploy/rag`.

    Run without a shell (its words split as a shell would), so a target file cannot
    smuggle in a pipeline; a command that needs one says `sh -c '...'` itself.
    """

    command: str
    configured_in: str = "--logs-command"
    timeout: float = COMMAND_TIMEOUT_SECONDS

    @property
    def description(self) -> str:
        return f"the output of `{self.command}`"

    def of_replica(self, replica: str) -> CommandLogSource:
        return self

    def lines_since(self, since: datetime) -> list[str]:
        fix = f"run `{self.command}` yourself; fix logs.source in {self.configured_in}"
        try:
            argv = shlex.split(self.command)
        except ValueError as exc:
            raise LogSourceError(f"cannot split `{self.command}` into words: {exc}", fix) from exc
        if not argv:
            raise LogSourceError("the log command is empty", fix)
        try:
            done = subprocess.run(argv, capture_output=True, timeout=self.timeout, check=False)
        except FileNotFoundError as exc:
            raise LogSourceError(f"`{argv[0]}` is not installed or not on PATH", fix) from exc
        except subprocess.TimeoutExpired as exc:
            raise LogSourceError(
                f"`{self.command}` ran longer than {self.timeout:g}s (does it follow, like -f?)",
                fix=f"drop -f/--follow: the check reads the output once; {fix}",
            ) from exc
        if done.returncode != 0:
            error = done.stderr.decode("utf-8", errors="replace").strip()[-300:]
            raise LogSourceError(f"`{self.command}` exited {done.returncode}: {error}", fix)
        # Both streams, as `docker logs` gives both: an app may log to either.
        text = done.stdout.decode("utf-8", errors="replace")
        return log_lines(text + "\n" + done.stderr.decode("utf-8", errors="replace"))


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


def log_source_for(target: Target, compose_project: str) -> LogSource:
    """The source a target names (`logs.kind`, `logs.source`); a relative file path is read
    from beside the target file, where the learner keeps it."""
    logs = target.logs
    configured_in = str(target.source) if target.source else "lab-target.yaml"
    if logs.kind == "compose":
        return DockerLogSource(compose_project, service=logs.source)
    if logs.kind == "container":
        return ContainerLogSource(logs.source, configured_in=configured_in)
    if logs.kind == "command":
        return CommandLogSource(logs.source, configured_in=configured_in)
    if logs.kind == "stdin":
        return StreamLogSource()
    path = Path(logs.source)
    if not path.is_absolute() and target.source is not None:
        path = target.source.parent / path
    return FileLogSource(
        path,
        unreadable_fix=None
        if target.own_stack
        else f"point logs.source in {configured_in} at the file your app writes its JSON "
        "log lines to (or use logs.kind: command / container)",
    )
