"""The app and the alert sink as real uvicorn processes on loopback ports, for the
reliability tests: hostile framing, slow clients, crashes and floods against the real
server stack (h11, uvicorn, FastAPI), not an in-process client that would normalise them.

Every test here is marked `reliability`; each process is stopped at the end of its test.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from lab.kit.polling import poll_until

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "reliability-admin-token"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything in this directory `reliability`."""
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.reliability)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running server process: its port, its stdout log and its memory."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    stdout: Path
    stderr: Path
    ready_path: str
    restarts: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def rss(self) -> int:
        """Resident memory of the process, in bytes."""
        return int(psutil.Process(self.process.pid).memory_info().rss)

    @property
    def open_connections(self) -> int:
        """TCP connections of the process other than its listening socket."""
        connections = psutil.Process(self.process.pid).net_connections(kind="tcp")
        return sum(1 for c in connections if c.status != psutil.CONN_LISTEN)

    def client(self, timeout: float = 10.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def log_lines(self) -> list[dict[str, Any]]:
        """Every stdout line, parsed: each one must be a JSON object. (Lines end at "\n"
        only: a JSON string may hold U+2028 or \x1c unescaped, where splitlines() splits.)"""
        lines = self.stdout.read_text(encoding="utf-8").split("\n")
        parsed = [json.loads(line) for line in lines if line.strip()]
        assert all(isinstance(line, dict) for line in parsed)
        return parsed

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.process.poll() is None, f"{self.name} exited: {self.stderr.read_text()}"
            return httpx.get(self.url + self.ready_path, timeout=1).status_code == 200

        poll_until(ready, timeout=30, interval=0.05, describe=f"{self.name} ready")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, as a crash or an OOM kill."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


ServerFactory = Callable[..., Server]


def _start(
    name: str, module: str, env: dict[str, str], tmp_path: Path, ready_path: str, port: int
) -> Server:
    runs = len(list(tmp_path.glob(f"{name}-*.out")))
    stdout = tmp_path / f"{name}-{runs}.out"
    stderr = tmp_path / f"{name}-{runs}.err"
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=stdout.open("wb"),
        stderr=stderr.open("wb"),
    )
    server = Server(name, process, port, stdout, stderr, ready_path)
    server.wait_ready()
    return server


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start `python -m sample_rag_app` on a free loopback port (RAG_* overrides as
    keyword arguments); with the admin token set and no random LLM errors."""
    servers: list[Server] = []

    def start(**overrides: str) -> Server:
        port = free_port()
        env = {
            "RAG_HOST": "127.0.0.1",
            "RAG_PORT": str(port),
            "RAG_ADMIN_TOKEN": ADMIN_TOKEN,
            "RAG_FAULT_LLM_ERROR_RATE": "0",
            "RAG_LOG_LEVEL": "info",
            **{f"RAG_{key.upper()}": value for key, value in overrides.items()},
        }
        server = _start("app", "sample_rag_app", env, tmp_path, "/readyz", port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def start_sink(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start `python -m sample_rag_app.services.alert_sink` on a free loopback port with its
    data file in
    tmp_path (ALERT_SINK_* overrides as keyword arguments; the same port on restarts)."""
    servers: list[Server] = []
    port = free_port()

    def start(**overrides: str) -> Server:
        env = {
            "ALERT_SINK_HOST": "127.0.0.1",
            "ALERT_SINK_PORT": str(port),
            "ALERT_SINK_DATA_FILE": str(tmp_path / "alerts.jsonl"),
            **{f"ALERT_SINK_{key.upper()}": value for key, value in overrides.items()},
        }
        server = _start(
            "sink", "sample_rag_app.services.alert_sink", env, tmp_path, "/healthz", port
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def raw_exchange(port: int, request: bytes, *, timeout: float = 5.0) -> bytes:
    """Send raw bytes (framing an HTTP client would refuse to produce) and read until the
    server closes or ``timeout`` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return received


def notification(alertname: str = "ReliabilityTest", **labels: str) -> dict[str, Any]:
    """A version 4 webhook notification with one firing alert."""
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alertname}"}}',
        "status": "firing",
        "receiver": "alert-sink",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": alertname, "severity": "warning", **labels},
                "annotations": {"summary": "reliability test"},
                "startsAt": "2026-11-28T15:00:00Z",
            }
        ],
    }
