"""Shared helpers of the app benchmarks: in-process clients and machine information."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata

import httpx
from fastapi import FastAPI


def in_process_client(app: FastAPI) -> httpx.AsyncClient:
    """An httpx client that calls the ASGI app directly (no network, no lifespan)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")


def machine_info() -> str:
    """A markdown list describing the machine and the library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    versions = ", ".join(
        f"{name} {_version(name)}"
        for name in (
            "fastapi", "starlette", "uvicorn", "prometheus-client", "structlog", "orjson",
            "httpx", "prometheus-fastapi-instrumentator", "opentelemetry-sdk",
            "opentelemetry-instrumentation-fastapi",
        )
    )  # fmt: skip
    commit = _git_commit()
    return "\n".join(
        [
            f"- CPU: {cpu} ({os.cpu_count()} logical CPUs)",
            f"- OS: {platform.platform()}",
            f"- Python: {sys.version.split()[0]} ({platform.python_implementation()})",
            f"- Libraries: {versions}",
            f"- Commit: {commit}",
        ]
    )


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "sample_rag_app"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out.stdout.strip() + (" + uncommitted sample_rag_app changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
