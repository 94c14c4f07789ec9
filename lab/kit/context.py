"""Every client of the lab's services, built once from `LabSettings` with one timeout policy.

The checks, `lab wait`, `lab drill`, `lab experiment`, `lab baseline` and the notebook all
reach the services through a `LabContext`, so where each service runs and how long a call
to it may take are decided in one place: the settings (LAB_* variables, or the flags that
override them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.kit.clients.alert_sink import AlertSinkClient
from lab.kit.clients.alertmanager import AlertmanagerClient
from lab.kit.clients.app import AppClient
from lab.kit.clients.base import DEFAULT_POOL_SIZE
from lab.kit.clients.grafana import GrafanaClient
from lab.kit.clients.prometheus import PrometheusClient
from lab.kit.settings import LabSettings, reveal

if TYPE_CHECKING:
    from lab.kit.target import Target


@dataclass(frozen=True)
class LabContext:
    settings: LabSettings
    app: AppClient
    prometheus: PrometheusClient
    alertmanager: AlertmanagerClient
    alert_sink: AlertSinkClient
    grafana: GrafanaClient
    #: The stack these clients reach: the lab's own, or the learner's its file describes.
    target: Target

    @classmethod
    def from_settings(
        cls,
        settings: LabSettings,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        target: Target | None = None,
    ) -> LabContext:
        """Each call times out after `settings.http_timeout_seconds`; `pool_size` is how many
        connections a client keeps open (the experiment keeps one per request in flight).
        The clients reach `target` (default: the one `settings` and its target file name,
        `lab.target.load`), whose URLs already carry the settings' overrides."""
        from lab.kit.target import load_target

        target = target if target is not None else load_target(settings)
        timeout = settings.http_timeout_seconds
        grafana_token = target.grafana.token or reveal(settings.grafana_token)
        return cls(
            settings=settings,
            target=target,
            app=AppClient(
                target.app_url,
                admin_token=reveal(settings.admin_token),
                timeout=timeout,
                pool_size=pool_size,
            ),
            prometheus=PrometheusClient(
                target.prometheus_url, timeout=timeout, pool_size=pool_size
            ),
            alertmanager=AlertmanagerClient(
                target.alertmanager_url, timeout=timeout, pool_size=pool_size
            ),
            alert_sink=AlertSinkClient(
                target.alert_sink_url or settings.alert_sink_url,
                timeout=timeout,
                pool_size=pool_size,
            ),
            grafana=GrafanaClient(
                target.grafana.url or settings.grafana_url,
                token=grafana_token,
                user=target.grafana.user,
                password=target.grafana.password,
                timeout=timeout,
                pool_size=pool_size,
            ),
        )
