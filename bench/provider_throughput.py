"""What does a call to the provider (the OpenAI-compatible simulated LLM) cost, and how
many calls a second does one provider process answer?

Starts `python -m sample_rag_app.services.provider` on a free loopback port with no
simulated latency, no faults and limits far above the load, so what is measured is the
provider's own work (parsing, tokenizing, faults drawn, rate limit counted, the answer
written, the metrics) plus uvicorn and the loopback socket. Three measures:

- cost per call: sequential calls on one kept-alive connection (httpx), the median and
  p95 of each call kind, and the same calls through the official `openai` SDK (its own
  request building and response parsing added);
- throughput: `--concurrency` async clients calling chat completions back to back for
  `--seconds`, answered calls a second;
- the provider's work without a socket: the app called in process (httpx's ASGI
  transport), the floor under the first measure, in wall time and in CPU time (on a
  loaded machine the CPU time is the figure that does not move with the neighbours).

Usage: ``python bench/provider_throughput.py [--calls N] [--seconds S] [--concurrency C]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info

from sample_rag_app.services.provider import ProviderSettings, create_app
from sample_rag_app.services.provider.faults import ProviderFaults

ROOT = Path(__file__).resolve().parents[1]
MESSAGES = [
    {"role": "system", "content": "Answer only from the numbered context passages."},
    {"role": "user", "content": "Context:\n[1] Retries\nRetry a failed call with backoff. " * 8
     + "\n\nQuestion: How do retries lower the error rate?\nAnswer:"},
]  # fmt: skip
CHAT = {"model": "gpt-4o-mini", "messages": MESSAGES}
ENV = {
    "PROVIDER_LATENCY_MEDIAN_SECONDS": "0",
    "PROVIDER_FAULTS__LLM_ERROR_RATE": "0",
    "PROVIDER_REQUESTS_PER_MINUTE": "100000000",
    "PROVIDER_TOKENS_PER_MINUTE": "100000000000",
    "PROVIDER_LOG_LEVEL": "warning",
    "PROVIDER_HOST": "127.0.0.1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _provider() -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, **ENV, "PROVIDER_PORT": str(port)}
    args = [sys.executable, "-m", "sample_rag_app.services.provider"]
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _times(call: Callable[[], Any], calls: int) -> list[float]:
    for _ in range(min(20, calls)):  # warm up: connection, first-call imports
        call()
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _row(name: str, times: list[float]) -> str:
    p95 = statistics.quantiles(times, n=20)[-1]
    median = statistics.median(times)
    return f"| {name} | {median:.3f} | {p95:.3f} | {1000 / median:.0f} |"


def _http_rows(url: str, calls: int) -> list[str]:
    rows = []
    with httpx.Client(base_url=url) as client:

        def post(path: str, body: dict[str, Any]) -> Callable[[], Any]:
            return lambda: client.post(path, json=body).raise_for_status()

        cases = {
            "httpx: POST /v1/chat/completions": post("/v1/chat/completions", CHAT),
            "httpx: same, stream with usage": lambda: client.post(
                "/v1/chat/completions",
                json=CHAT | {"stream": True, "stream_options": {"include_usage": True}},
            ).raise_for_status(),
            "httpx: POST /v1/embeddings (256 floats)": post(
                "/v1/embeddings",
                {
                    "model": "text-embedding-3-small",
                    "input": "retries and a fallback",
                    "dimensions": 256,
                    "encoding_format": "float",
                },
            ),
            "httpx: GET /v1/models": lambda: client.get("/v1/models").raise_for_status(),
        }
        rows += [_row(name, _times(call, calls)) for name, call in cases.items()]
    sdk = openai.OpenAI(base_url=f"{url}/v1", api_key="bench", max_retries=0)
    rows.append(
        _row(
            "openai SDK: chat.completions.create",
            _times(lambda: sdk.chat.completions.create(**CHAT), calls),  # type: ignore[call-overload]
        )
    )

    def stream() -> None:
        for _ in sdk.chat.completions.create(**CHAT, stream=True):  # type: ignore[call-overload]
            pass

    rows.append(_row("openai SDK: same, streamed", _times(stream, calls)))
    return rows


async def _throughput(url: str, seconds: float, concurrency: int) -> tuple[int, int]:
    done = failed = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits) as client:

        async def worker() -> None:
            nonlocal done, failed
            while time.monotonic() < deadline:
                response = await client.post("/v1/chat/completions", json=CHAT)
                done += 1
                failed += response.status_code != 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, failed


async def _in_process(calls: int) -> tuple[list[float], list[float]]:
    settings = ProviderSettings(
        latency_median_seconds=0,
        faults=ProviderFaults(llm_error_rate=0),
        requests_per_minute=100_000_000,
        tokens_per_minute=100_000_000_000,
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        wall, cpu = [], []
        for i in range(calls + 20):
            started, started_cpu = time.perf_counter(), time.process_time()
            (await client.post("/v1/chat/completions", json=CHAT)).raise_for_status()
            if i >= 20:
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
        return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="sequential calls per kind")
    parser.add_argument("--seconds", type=float, default=10.0, help="throughput run length")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    args = parser.parse_args()
    with _provider() as url:
        rows = _http_rows(url, args.calls)
        done, failed = asyncio.run(_throughput(url, args.seconds, args.concurrency))
    wall, cpu = asyncio.run(_in_process(args.calls))
    rows.append(_row("in process (ASGI transport): POST /v1/chat/completions", wall))
    rows.append(_row("same, CPU time of the process (client included)", cpu))
    print("# Provider: cost per call and throughput\n")
    command = "python bench/provider_throughput.py"
    print(f"Command (repository root, dev venv):\n\n```\n{command} --calls {args.calls} "
          f"--seconds {args.seconds:g} --concurrency {args.concurrency}\n```\n")  # fmt: skip
    print(machine_info())
    print(f"- Load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print("| call | median (ms) | p95 (ms) | calls/s at the median, sequential |")
    print("|---|---:|---:|---:|")
    print("\n".join(rows))
    print(
        f"\nThroughput: {args.concurrency} async clients for {args.seconds:g} s: {done} calls, "
        f"{done / args.seconds:.0f} a second, {failed} not 200."
    )


if __name__ == "__main__":
    main()
