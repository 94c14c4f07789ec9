"""What does the gateway (the relay on localhost:8000 in front of the replicas) add per request?

Starts the sample app (`python -m sample_rag_app`, simulated LLM latency 0, cache off, rate
limits far above the load) and
the gateway (`python -m sample_rag_app.services.gateway`, upstream 127.0.0.1:<the app's
port>) as local
processes on free loopback ports, then times sequential requests straight to the app and
through the gateway, interleaved in many short rounds so the load of a shared machine
affects both alike. Two client patterns:

- ``new connection``: one connection per request (`curl`, or a client without keep-alive):
  the gateway's cost includes its own accept, DNS lookup and connect to the replica;
- ``kept alive``: one connection for all requests (loadgen-like clients): the relay only
  copies bytes.

Two requests: ``GET /healthz`` (almost no work in the app, so the relay's cost shows) and
``POST /query`` (the whole pipeline without simulated waits). The report gives, per
pattern and request, the median latency direct and through the gateway, their ratio, and
the median of the per-round paired differences.

Usage: ``python bench/gateway_overhead.py [--rounds R] [--requests N]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info

ROOT = Path(__file__).resolve().parents[1]
QUESTION = {"question": "How does a response cache lower RAG cost?", "top_k": 4}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _process(args: list[str], env: dict[str, str], ready_url: str) -> Iterator[None]:
    process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"{args} did not get ready")
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _timed(send: Callable[[], httpx.Response], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = send()
        out.append(time.perf_counter() - start)
        if response.status_code not in (200, 502):  # 502: the app's injected LLM error
            raise SystemExit(f"unexpected answer {response.status_code}: {response.text[:200]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="per variant and round")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/gateway_overhead.md")
    args = parser.parse_args()

    app_port, gateway_port = _free_port(), _free_port()
    app_env = {
        "RAG_PORT": str(app_port),
        "RAG_HOST": "127.0.0.1",
        "RAG_SIMULATED_LATENCY_MEDIAN_SECONDS": "0",
        "RAG_CACHE_MAX_SIZE": "0",
        # Far above the bench's rate: the simulated provider must not refuse.
        "RAG_RATE_LIMIT_REQUESTS_PER_MINUTE": "10000000",
        "RAG_RATE_LIMIT_TOKENS_PER_MINUTE": "10000000000",
        "RAG_LOG_LEVEL": "warning",
    }
    gateway_env = {
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(gateway_port),
        "GATEWAY_UPSTREAM_HOST": "127.0.0.1",
        "GATEWAY_UPSTREAM_PORT": str(app_port),
        "GATEWAY_LOG_LEVEL": "warning",
    }
    direct = f"http://127.0.0.1:{app_port}"
    gateway = f"http://127.0.0.1:{gateway_port}"
    results: dict[tuple[str, str, str], list[float]] = {}
    paired: dict[tuple[str, str], list[float]] = {}
    with (
        _process([sys.executable, "-m", "sample_rag_app"], app_env, f"{direct}/readyz"),
        _process(
            [sys.executable, "-m", "sample_rag_app.services.gateway"],
            gateway_env,
            f"{gateway}/readyz",
        ),
    ):
        kept = {base: httpx.Client(base_url=base) for base in (direct, gateway)}
        for _ in range(args.rounds):
            for pattern in ("new connection", "kept alive"):
                for request in ("GET /healthz", "POST /query"):
                    medians = {}
                    for base in (direct, gateway):
                        if pattern == "kept alive":
                            client = kept[base]
                        else:
                            client = httpx.Client(
                                base_url=base, limits=httpx.Limits(max_keepalive_connections=0)
                            )
                        if request == "GET /healthz":
                            times = _timed(lambda c=client: c.get("/healthz"), args.requests)
                        else:
                            times = _timed(
                                lambda c=client: c.post("/query", json=QUESTION), args.requests
                            )
                        where = "direct" if base == direct else "gateway"
                        results.setdefault((pattern, request, where), []).extend(times)
                        medians[where] = statistics.median(times)
                    paired.setdefault((pattern, request), []).append(
                        medians["gateway"] - medians["direct"]
                    )
    lines = [
        "# Gateway overhead: straight to the app against through the gateway",
        "",
        "Command (repository root, dev venv):",
        "",
        "```",
        f"python bench/gateway_overhead.py --rounds {args.rounds} --requests {args.requests}",
        "```",
        "",
        machine_info(),
        "",
        "| client | request | direct median (ms) | gateway median (ms) | ratio |"
        " paired difference, median of rounds (ms) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for pattern in ("new connection", "kept alive"):
        for request in ("GET /healthz", "POST /query"):
            d = statistics.median(results[(pattern, request, "direct")]) * 1000
            g = statistics.median(results[(pattern, request, "gateway")]) * 1000
            diff = statistics.median(paired[(pattern, request)]) * 1000
            lines.append(
                f"| {pattern} | {request} | {d:.3f} | {g:.3f} | {g / d:.2f} | {diff:.3f} |"
            )
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
