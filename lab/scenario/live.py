"""The running lab as a scenario sees it: its services, its checks, its lab-owned files.

Everything a scenario does to the lab goes through here: the app's admin API, files in
the lab-owned state directory (`layout`), Prometheus's reload endpoint, Alertmanager's
silences, and a restart of the Alertmanager container through the Docker engine (the one
service that cannot switch configs by reload: it has no include, so its container starts
on the variant when there is one).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.check.result import CheckResult
from lab.kit import owned_files
from lab.kit.clients import AlertmanagerClient, PrometheusClient, ServiceError
from lab.kit.clients.alert_sink import AlertSinkClient
from lab.kit.clients.app import AppClient
from lab.kit.context import LabContext
from lab.kit.docker_engine import EngineUnavailable, compose_containers
from lab.kit.polling import poll_until
from lab.kit.settings import LabSettings

#: How long a scenario's alerts check waits for the test alert: a healthy round trip
#: takes about a second, and a dropped alert must not cost the learner two minutes.
ALERT_DEADLINE_SECONDS = 5.0
READY_TIMEOUT_SECONDS = 60.0


class DockerUnavailable(ServiceError):
    """The Docker engine cannot be asked to restart a service."""


def restart_compose_service(project: str, service: str, wait_healthy: bool) -> None:
    """Restart the containers of a compose service through the Docker engine, together;
    with `wait_healthy`, wait until their healthchecks pass."""
    instead = f"`docker compose restart {service}` does the same"
    try:
        containers = compose_containers(project, service, stopped_too=True)
    except EngineUnavailable as exc:
        raise DockerUnavailable(
            f"cannot restart {service} through the Docker engine: {exc.problem}; "
            f"{exc.fix or instead}"
        ) from exc
    if not containers:
        raise DockerUnavailable(
            f"no container of service {service!r} in compose project {project!r}: start "
            "the lab, or set --compose-project / LAB_COMPOSE_PROJECT"
        )
    from docker.errors import DockerException  # importable: compose_containers found it

    def healthy() -> bool:
        for container in containers:
            container.reload()
            health = container.attrs.get("State", {}).get("Health", {}).get("Status")
            if health not in (None, "healthy"):  # None: no healthcheck to wait for
                return False
        return True

    try:
        # All at once: replicas restarted in turn would take their stop timeouts in turn.
        with ThreadPoolExecutor(max_workers=len(containers)) as pool:
            list(pool.map(lambda container: container.restart(timeout=10), containers))
        if wait_healthy:
            poll_until(
                healthy, timeout=READY_TIMEOUT_SECONDS, interval=1, describe=f"{service} healthy"
            )
    except DockerException as exc:
        raise DockerUnavailable(
            f"cannot restart {service} through the Docker engine ({exc}); {instead}"
        ) from exc


@dataclass
class Lab:
    settings: LabSettings
    state_dir: Path
    app: AppClient
    prometheus: PrometheusClient
    alertmanager: AlertmanagerClient
    sink: AlertSinkClient
    #: (service, wait until healthy): Alertmanager is ready long before its healthcheck says.
    restart_service: Callable[[str, bool], None]

    @classmethod
    def connect(cls, settings: LabSettings, state_dir: Path) -> Lab:
        ctx = LabContext.from_settings(settings)
        return cls(
            settings=settings,
            state_dir=state_dir,
            app=ctx.app,
            prometheus=ctx.prometheus,
            alertmanager=ctx.alertmanager,
            sink=ctx.alert_sink,
            restart_service=lambda service, wait_healthy: restart_compose_service(
                settings.compose_project, service, wait_healthy
            ),
        )

    # --- the checks a scenario targets ---------------------------------------------
    def check(self, name: str) -> CheckResult:
        """Run one check of `lab check` (the alerts check with a short deadline)."""
        from lab.check.runner import CheckOptions, run_checks

        settings = self.settings.model_copy(
            update={"alert_deadline_seconds": ALERT_DEADLINE_SECONDS}
        )
        (result,) = run_checks(settings, CheckOptions(only=(name,)))
        return result

    # --- lab-owned files -------------------------------------------------------------
    def path(self, name: str) -> Path:
        return self.state_dir / name

    def write_file(self, name: str, content: str) -> None:
        """Write a lab-owned file atomically, readable by the containers' `nobody`."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        target = self.path(name)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(content, encoding="utf-8", newline="\n")
        os.chmod(partial, 0o644)
        os.replace(partial, target)

    def remove_file(self, name: str) -> bool:
        """Remove a lab-owned file; True when there was one."""
        try:
            self.path(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def scrape_variants(self) -> list[Path]:
        return sorted(self.state_dir.glob(f"{owned_files.SCRAPE_PREFIX}*.yml"))

    # --- the app -------------------------------------------------------------------------
    # One replica: the admin API changes it at once. Several (`--scale app=N`, behind the
    # gateway, which hands each connection to the next one): an admin call reaches one of
    # them, so every replica is restarted instead, and each reads the faults file at start.
    def replicas(self) -> int:
        return sum(1 for t in self.prometheus.targets() if t.job == self.settings.app_job)

    def set_app_faults(self, faults: dict[str, Any]) -> None:
        """In the faults file the app reads at start, and in every replica now."""
        self.write_file(owned_files.FAULTS_FILE, json.dumps(faults, indent=2) + "\n")
        if self.replicas() > 1:
            self._restart_app()
        else:
            self.app.set_faults(**faults)

    def clear_app_faults(self) -> None:
        self.remove_file(owned_files.FAULTS_FILE)
        if self.replicas() > 1:
            self._restart_app()
        else:
            self.app.clear_faults()

    def _restart_app(self) -> None:
        self.restart_service("app", True)
        poll_until(
            self.app.ready,
            timeout=READY_TIMEOUT_SECONDS,
            interval=0.5,
            describe="the app ready after its restart",
        )

    # --- Prometheus and Alertmanager ------------------------------------------------------
    def reload_prometheus(self) -> None:
        self.prometheus.reload()

    def restart_alertmanager(self) -> None:
        self.restart_service("alertmanager", False)
        poll_until(
            self.alertmanager.ready,
            timeout=READY_TIMEOUT_SECONDS,
            interval=0.5,
            describe="Alertmanager ready after its restart",
        )
