"""Thin typed HTTP clients for the lab's services: the app, Prometheus, Alertmanager, the
alert sink and Grafana (`lab.kit.context.LabContext` builds them all from the settings).

They speak each service's documented HTTP API and return plain dataclasses, so a check
reads as a statement about the service rather than about JSON shapes.
"""

from lab.kit.clients.alertmanager import AlertmanagerClient
from lab.kit.clients.base import ServiceError, ServiceUnreachable
from lab.kit.clients.prometheus import PrometheusClient

__all__ = ["AlertmanagerClient", "PrometheusClient", "ServiceError", "ServiceUnreachable"]
