"""Shared transport for the service clients: one session, one timeout, one error vocabulary."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

#: Connections a client keeps open at once: requests' own default.
DEFAULT_POOL_SIZE = 10


class ServiceError(RuntimeError):
    """A service answered, but not with what its API promises."""


class ServiceUnreachable(ServiceError):
    """Nothing answered at the service's address: it is down, or the URL is wrong."""

    def __init__(self, message: str, *, compose_service: str) -> None:
        super().__init__(message)
        self.compose_service = compose_service


class HttpClient:
    """Base for the API clients: JSON over HTTP with errors that name the service and URL.

    Connection failures become `ServiceUnreachable` so a check can tell "not running"
    (tell the user how to start it) from "running but wrong" (tell them what is wrong).
    """

    service_name = "service"
    compose_service = "app"

    def __init__(
        self, base_url: str, *, timeout: float = 5.0, pool_size: int = DEFAULT_POOL_SIZE
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_maxsize=pool_size)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"{self.base_url}{path}"
        kwargs.setdefault("timeout", self.timeout)
        try:
            return self._session.request(method, url, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ServiceUnreachable(
                f"{self.service_name} is not reachable at {url} ({type(exc).__name__})",
                compose_service=self.compose_service,
            ) from exc

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ServiceError(
                f"{self.service_name} answered {response.status_code} to {method} {path}: "
                f"{response.text[:300]}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ServiceError(
                f"{self.service_name} sent non-JSON to {method} {path}: {response.text[:200]}"
            ) from exc

    def is_ready(self, path: str) -> bool:
        """True when the readiness endpoint answers 200; False when down or not ready."""
        try:
            return self._request("GET", path).status_code == 200
        except ServiceUnreachable:
            return False
