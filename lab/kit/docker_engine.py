"""The Docker engine as the lab's commands use it: the containers of one compose service,
found by the labels compose puts on them (what `docker compose ps SERVICE` lists).

The `docker` package comes with the `lab` extra; without it, or without an engine that
answers, the caller gets `EngineUnavailable` and says what to do instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docker.models.containers import Container


class EngineUnavailable(RuntimeError):
    """The engine cannot be asked: what went wrong, and its fix when it has one of its own
    (callers that can do without the engine offer theirs)."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        super().__init__(problem if fix is None else f"{problem}; {fix}")
        self.problem = problem
        self.fix = fix


def compose_containers(project: str, service: str, *, stopped_too: bool = False) -> list[Container]:
    """The containers of `service` in compose project `project` (running ones only unless
    `stopped_too`)."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError as exc:
        raise EngineUnavailable(
            "the `docker` package is missing", fix="pip install docker"
        ) from exc
    labels = [f"com.docker.compose.project={project}", f"com.docker.compose.service={service}"]
    try:
        containers: list[Container] = docker.from_env().containers.list(
            all=stopped_too, filters={"label": labels}
        )
    except DockerException as exc:
        raise EngineUnavailable(f"cannot reach the Docker engine ({exc})") from exc
    return containers


def named_container(name: str) -> Container | None:
    """The container called `name` (running or not), None when there is none."""
    try:
        import docker
        from docker.errors import DockerException, NotFound
    except ImportError as exc:
        raise EngineUnavailable(
            "the `docker` package is missing", fix="pip install docker"
        ) from exc
    try:
        container: Container = docker.from_env().containers.get(name)
    except NotFound:
        return None
    except DockerException as exc:
        raise EngineUnavailable(f"cannot reach the Docker engine ({exc})") from exc
    return container
