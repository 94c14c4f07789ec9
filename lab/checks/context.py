"""Everything a check needs to reach the lab, built once from `LabSettings`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lab.checks.result import CheckFailed, CheckResult, Status
from lab.clients import AlertmanagerClient, PrometheusClient, ServiceError, ServiceUnreachable
from lab.clients.app import AppClient
from lab.settings import LabSettings, reveal


@dataclass
class CheckContext:
    settings: LabSettings
    app: AppClient
    prometheus: PrometheusClient
    alertmanager: AlertmanagerClient

    @classmethod
    def from_settings(cls, settings: LabSettings) -> CheckContext:
        timeout = settings.http_timeout_seconds
        return cls(
            settings=settings,
            app=AppClient(
                settings.app_url, admin_token=reveal(settings.admin_token), timeout=timeout
            ),
            prometheus=PrometheusClient(settings.prometheus_url, timeout=timeout),
            alertmanager=AlertmanagerClient(settings.alertmanager_url, timeout=timeout),
        )


@dataclass
class Evidence:
    """What a check has established so far, in the order it established it."""

    lines: list[str] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)

    def add(self, line: str, **data: object) -> None:
        self.lines.append(line)
        self.data.update(data)


def run_check(check: str, title: str, body: Callable[[Evidence], Status | None]) -> CheckResult:
    """Run a check body, turning its first broken link into a FAIL with the fix.

    A service that does not answer is always a failure that says how to start it:
    a check must never pass because it could not look.
    """
    evidence = Evidence()
    try:
        status = body(evidence) or Status.PASS
    except CheckFailed as failure:
        evidence.add(f"✗ {failure}", **failure.data)
        return CheckResult(
            check, title, Status.FAIL, tuple(evidence.lines), failure.fix, evidence.data
        )
    except ServiceUnreachable as down:
        evidence.add(f"✗ {down}")
        fix = (
            f"start it: `docker compose up -d {down.compose_service}` (then `lab wait`), "
            "or point lab at it with the matching --*-url flag / LAB_*_URL variable"
        )
        return CheckResult(check, title, Status.FAIL, tuple(evidence.lines), fix, evidence.data)
    except ServiceError as wrong:
        evidence.add(f"✗ {wrong}")
        fix = "the service answered, but not as its API documents: check its logs"
        return CheckResult(check, title, Status.FAIL, tuple(evidence.lines), fix, evidence.data)
    return CheckResult(check, title, status, tuple(evidence.lines), None, evidence.data)
