"""How much does instrumentation cost per request? The app's own, and two common libraries.

Every variant is the same app (create_app) serving the same request, in process through
httpx's ASGITransport, sequentially, for a bounded number of requests:

- ``app telemetry on``: the app's metrics and JSON logging (logs rendered to /dev/null);
- ``app telemetry off``: ``metrics_enabled=False, logging_enabled=False`` (the baseline);
- ``baseline + prometheus-fastapi-instrumentator``: the baseline with Instrumentator();
- ``baseline + opentelemetry-instrumentation-fastapi``: the baseline with
  FastAPIInstrumentor and an SDK tracer and meter provider (no exporter).

The request is ``POST /query`` with one fixed question, so after the first request it is
a cache hit: the measured time is the HTTP path plus instrumentation, not the simulated
LLM. Usage: ``python bench/instrumentation_overhead.py [--requests N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import in_process_client, machine_info

from sample_rag_app.main import create_app
from sample_rag_app.settings import Settings
from sample_rag_app.telemetry.logging import configure_logging

BODY = {"question": "How does a response cache lower RAG cost?", "top_k": 4}
RESULTS = Path(__file__).resolve().parent / "results" / "instrumentation_overhead.md"


def _settings(telemetry: bool) -> Settings:
    return Settings(
        simulated_latency_median_seconds=0.0,
        fault_llm_error_rate=0.0,
        metrics_enabled=telemetry,
        logging_enabled=telemetry,
        rate_limit_requests_per_minute=10_000_000,
        rate_limit_tokens_per_minute=10_000_000_000,
    )


def app_on() -> FastAPI:
    return create_app(_settings(True), CollectorRegistry())


def app_off() -> FastAPI:
    return create_app(_settings(False), CollectorRegistry())


def with_instrumentator() -> FastAPI:
    from prometheus_fastapi_instrumentator import Instrumentator

    app = app_off()
    Instrumentator(registry=CollectorRegistry()).instrument(app)
    return app


def with_opentelemetry() -> FastAPI:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

    app = app_off()
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=TracerProvider(), meter_provider=MeterProvider()
    )
    return app


VARIANTS: dict[str, Callable[[], FastAPI]] = {
    "app telemetry on (metrics + JSON logs)": app_on,
    "app telemetry off (baseline)": app_off,
    "baseline + prometheus-fastapi-instrumentator": with_instrumentator,
    "baseline + opentelemetry-instrumentation-fastapi": with_opentelemetry,
}
BASELINE = "app telemetry off (baseline)"


async def _measure(app: FastAPI, requests: int, warmup: int) -> float:
    """Microseconds per request over ``requests`` sequential requests after a warm-up."""
    app.state.pipeline.load()  # ASGITransport runs no lifespan
    async with in_process_client(app) as client:
        for _ in range(warmup):
            response = await client.post("/query", json=BODY)
            assert response.status_code == 200, response.text
        start = time.perf_counter()
        for _ in range(requests):
            await client.post("/query", json=BODY)
        return (time.perf_counter() - start) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per variant (median)")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000 or not 1 <= args.rounds <= 20:
        parser.error("requests must be 1..100000 and rounds 1..20")

    devnull = open(os.devnull, "wb")  # noqa: SIM115 (lives as long as the process)
    configure_logging("info", "rag-bench", stream=devnull, route_stdlib=False)

    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for round_number in range(args.rounds):
        # Interleave the variants so drift of the machine affects all of them alike.
        for name, build in VARIANTS.items():
            us = asyncio.run(_measure(build(), args.requests, args.warmup))
            samples[name].append(us)
            print(f"round {round_number + 1}: {name}: {us:.1f} µs/request", file=sys.stderr)

    base = statistics.median(samples[BASELINE])
    rows = []
    for name, values in samples.items():
        median = statistics.median(values)
        rows.append(
            f"| {name} | {median:.1f} | {min(values):.1f} | {max(values):.1f} "
            f"| {median - base:+.1f} | {median / base:.2f}x |"
        )
    command = "python bench/instrumentation_overhead.py " + " ".join(sys.argv[1:])
    report = f"""# Instrumentation overhead per request

Command (from the repository root, in the dev venv):

```
{command.strip()}
```

{args.rounds} rounds x {args.requests} sequential `POST /query` requests per variant (after
{args.warmup} warm-up requests), in process through httpx's ASGITransport (no network),
the same cached question every time, so the time is the HTTP path plus instrumentation.
µs/request is the median of the rounds; the overhead and ratio compare with the app with
its own telemetry switched off.

| variant | µs/request (median) | min | max | overhead vs baseline (µs) | ratio |
|---|---:|---:|---:|---:|---:|
{chr(10).join(rows)}

Machine:

{machine_info()}

Notes: the app's telemetry includes one JSON access line and three pipeline lines per
request (rendered with orjson to /dev/null) plus its counters and the exemplar-carrying
histogram. The two libraries add only their own metrics or spans (no logs); the
OpenTelemetry variant uses the SDK providers without an exporter.
"""
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
