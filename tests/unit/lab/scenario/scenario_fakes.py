"""A lab in memory for the scenario tests: the calls a scenario makes, recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from lab.kit.clients import ServiceUnreachable
from lab.kit.settings import LabSettings
from lab.scenario.live import Lab


@dataclass
class FakeApp:
    faults: dict[str, Any] = field(default_factory=dict)
    down: bool = False

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        if self.down:
            raise ServiceUnreachable("The RAG app is not reachable", compose_service="app")
        self.faults.update(faults)
        return self.faults

    def ready(self) -> bool:
        return True

    def clear_faults(self) -> dict[str, Any]:
        if self.down:
            raise ServiceUnreachable("The RAG app is not reachable", compose_service="app")
        self.faults.clear()
        return self.faults


@dataclass(frozen=True)
class FakeTarget:
    job: str = "rag-app"


@dataclass
class FakePrometheus:
    reloads: int = 0
    app_replicas: int = 1

    def reload(self) -> None:
        self.reloads += 1

    def targets(self) -> list[FakeTarget]:
        return [FakeTarget()] * self.app_replicas + [FakeTarget("prometheus")]


@dataclass
class FakeAlertmanager:
    silences_made: list[dict[str, Any]] = field(default_factory=list)
    config: str = "receivers: [{name: alert-sink, webhook_configs: [{url: x}]}]"

    def create_silence(self, matchers: list[dict[str, object]], **fields: Any) -> str:
        silence_id = f"s{len(self.silences_made) + 1}"
        self.silences_made.append(
            {"id": silence_id, "createdBy": fields["created_by"], "status": {"state": "active"}}
        )
        return silence_id

    def silences(self) -> list[dict[str, Any]]:
        return self.silences_made

    def expire_silence(self, silence_id: str) -> None:
        for silence in self.silences_made:
            if silence["id"] == silence_id:
                silence["status"] = {"state": "expired"}

    def active(self) -> list[str]:
        return [s["id"] for s in self.silences_made if s["status"]["state"] == "active"]

    def config_text(self) -> str:
        return self.config

    def ready(self) -> bool:
        return True


@dataclass
class FakeLab:
    """The parts of `Lab` a scenario reaches, with the real file handling."""

    lab: Lab
    app: FakeApp
    prometheus: FakePrometheus
    alertmanager: FakeAlertmanager
    restarts: list[str]


def fake_lab(state_dir: Path) -> FakeLab:
    app, prometheus, alertmanager = FakeApp(), FakePrometheus(), FakeAlertmanager()
    restarts: list[str] = []
    lab = Lab(
        settings=LabSettings(),
        state_dir=state_dir,
        app=cast(Any, app),
        prometheus=cast(Any, prometheus),
        alertmanager=cast(Any, alertmanager),
        sink=cast(Any, None),
        restart_service=lambda service, wait_healthy: restarts.append(service),
    )
    return FakeLab(lab, app, prometheus, alertmanager, restarts)
