"""How much does instrumentation cost per request? The app's own, and two common libraries.

Every variant is the same app (create_app) serving the same request, sequentially:

- ``app telemetry on``: the app's metrics and JSON logging (logs rendered to /dev/null);
- ``app metrics only`` and ``app logs only``: one half of it each;
- ``app telemetry off``: ``metrics_enabled=False, logging_enabled=False`` (the baseline);
- ``baseline + prometheus-fastapi-instrumentator``: the baseline with Instrumentator();
- ``baseline + opentelemetry-instrumentation-fastapi``: the baseline with
  FastAPIInstrumentor and an SDK tracer and meter provider (no exporter).

The request is ``POST /query`` with one fixed question, so after the first request it is
a cache hit: the measured time is the app's request path plus instrumentation, not the
simulated LLM. Requests go straight into the ASGI app, as a server calls it (no HTTP
client, no network), so no client's own cost drowns the differences. Many short rounds
run every variant once each, in a new random order per round, so drift and the load of a
shared machine affect all of them alike; each variant's cost is its difference with the
baseline *in the same round* (a paired difference), reported as the median and
interquartile range over the rounds. The app's own telemetry is set against the
instrumentator the same way, round by round.

A second part times the pieces of the app's telemetry on their own (the access line, the
pipeline's lines, the exemplar, the metric updates, the correlation id's contextvars), so
the total can be traced to its parts.

Usage: ``python bench/instrumentation_overhead.py [--requests N] [--rounds R] [--label after]``
(`--label` names the section of the results file the run replaces: before or after).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson
import structlog
from _common import machine_info
from _stack import write_section

from sample_rag_app.main import create_app
from sample_rag_app.runtime.logging import configure_logging
from sample_rag_app.settings import Settings
from sample_rag_app.telemetry.metrics import RagMetrics
from sample_rag_app.telemetry.recorder import RagTelemetry

BODY = {"question": "How does a response cache lower RAG cost?", "top_k": 4}
RESULTS = Path(__file__).resolve().parent / "results" / "instrumentation_overhead.md"
TITLE = "# Instrumentation overhead per request"
CORRELATION_ID = "0123456789abcdef0123456789abcdef"


def _settings(metrics: bool, logs: bool) -> Settings:
    return Settings(
        simulated_latency_median_seconds=0.0,
        faults={"llm_error_rate": 0.0},
        metrics_enabled=metrics,
        logging_enabled=logs,
        rate_limit_requests_per_minute=10_000_000,
        rate_limit_tokens_per_minute=10_000_000_000,
    )


def _app(metrics: bool, logs: bool) -> FastAPI:
    return create_app(_settings(metrics, logs), CollectorRegistry())


def with_instrumentator() -> FastAPI:
    from prometheus_fastapi_instrumentator import Instrumentator

    app = _app(False, False)
    Instrumentator(registry=CollectorRegistry()).instrument(app)
    return app


def with_opentelemetry() -> FastAPI:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

    app = _app(False, False)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=TracerProvider(), meter_provider=MeterProvider()
    )
    return app


BASELINE = "app telemetry off (baseline)"
APP_ON = "app telemetry on (metrics + JSON logs)"
INSTRUMENTATOR = "baseline + prometheus-fastapi-instrumentator"
VARIANTS: dict[str, Callable[[], FastAPI]] = {
    APP_ON: lambda: _app(True, True),
    "app metrics only": lambda: _app(True, False),
    "app logs only": lambda: _app(False, True),
    BASELINE: lambda: _app(False, False),
    INSTRUMENTATOR: with_instrumentator,
    "baseline + opentelemetry-instrumentation-fastapi": with_opentelemetry,
}


PAYLOAD = orjson.dumps(BODY)
SCOPE = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
    "scheme": "http", "path": "/query", "raw_path": b"/query", "root_path": "",
    "query_string": b"", "client": ("127.0.0.1", 50000), "server": ("bench", 80),
    "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                (b"content-length", str(len(PAYLOAD)).encode())],
}  # fmt: skip


async def _post(app: FastAPI) -> int:
    """One `POST /query` straight into the ASGI app, as a server would call it; the status."""
    status = 0

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": PAYLOAD, "more_body": False}

    async def send(message: dict[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]

    await app(dict(SCOPE), receive, send)
    return status


async def _measure(app: FastAPI, requests: int) -> float:
    """Microseconds per request over ``requests`` sequential requests."""
    start = timeit.default_timer()
    for _ in range(requests):
        await _post(app)
    return (timeit.default_timer() - start) / requests * 1e6


async def _warm(app: FastAPI, requests: int) -> None:
    app.state.pipeline.load()  # no server, so no lifespan: load the corpus here
    for _ in range(requests):
        status = await _post(app)
        assert status == 200, status


def _iqr(values: list[float], sign: str = "") -> str:
    """The interquartile range: "low .. high"."""
    low, _, high = statistics.quantiles(values, n=4)
    return f"{low:{sign}.1f} .. {high:{sign}.1f}"


def _pieces(repeat: int) -> list[tuple[str, float]]:
    """Microseconds per call of each piece of the app's telemetry on a cache hit."""
    metrics = RagMetrics(CollectorRegistry(), model="m", version="v", llm_provider="p")
    access = structlog.get_logger("sample_rag_app.access")
    histogram = metrics.query_duration
    exemplar = {"correlation_id": CORRELATION_ID}

    def bound(body: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            tokens = structlog.contextvars.bind_contextvars(
                correlation_id=exemplar["correlation_id"]
            )
            try:
                return body()
            finally:
                structlog.contextvars.reset_contextvars(**tokens)

        return run

    def access_line() -> None:
        access.info("http_request", method="POST", route="/query", status=200, duration_ms=0.731)

    def pipeline_lines() -> None:
        log_only = RagTelemetry(None, logging_enabled=True)
        log_only.query_received(question=BODY["question"], top_k=4)  # type: ignore[arg-type]
        log_only.cache_lookup(hit=True)
        log_only.query_succeeded(
            seconds=0.0004, correlation_id=exemplar["correlation_id"], cached=True, level="cache"
        )

    def metric_updates() -> None:
        quiet = RagTelemetry(metrics, logging_enabled=False)
        quiet.query_received(question=BODY["question"], top_k=4)  # type: ignore[arg-type]
        quiet.cache_lookup(hit=True)
        metrics.answers["cache"].inc()

    pieces: dict[str, Callable[[], object]] = {
        "correlation id: bind + reset contextvars": bound(lambda: None),
        "access line (`http_request`)": bound(access_line),
        "pipeline lines of a cache hit": bound(pipeline_lines),
        "latency histogram observe, with exemplar": lambda: histogram.observe(0.0004, exemplar),
        "latency histogram observe, without exemplar": lambda: histogram.observe(0.0004),
        "counter updates of a cache hit (4)": metric_updates,
    }
    return [
        (name, min(timeit.repeat(body, number=repeat, repeat=5)) / repeat * 1e6)
        for name, body in pieces.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per round")
    parser.add_argument("--rounds", type=int, default=60, help="rounds (each runs every variant)")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--label", default="after", help="results section: before or after")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000 or not 2 <= args.rounds <= 1000:
        parser.error("requests must be 1..100000 and rounds 2..1000")

    devnull = open(os.devnull, "wb")  # noqa: SIM115 (lives as long as the process)
    configure_logging("info", "rag-bench", stream=devnull, route_stdlib=False)

    apps = {name: build() for name, build in VARIANTS.items()}
    for app in apps.values():
        asyncio.run(_warm(app, args.warmup))
    order = random.Random(11)
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for round_number in range(args.rounds):
        names = list(apps)
        order.shuffle(names)
        for name in names:
            samples[name].append(asyncio.run(_measure(apps[name], args.requests)))
        print(f"round {round_number + 1}/{args.rounds} done", file=sys.stderr)

    base = samples[BASELINE]
    overhead = {
        name: [v - b for v, b in zip(values, base, strict=True)] for name, values in samples.items()
    }
    rows = []
    for name, values in samples.items():
        rows.append(
            f"| {name} | {statistics.median(values):.1f} | {_iqr(values)} "
            f"| {statistics.median(overhead[name]):+.1f} | {_iqr(overhead[name], '+')} |"
        )
    versus = [a - i for a, i in zip(overhead[APP_ON], overhead[INSTRUMENTATOR], strict=True)]
    cheaper = sum(v <= 0 for v in versus)
    pieces = "\n".join(f"| {name} | {us:.1f} |" for name, us in _pieces(2000))
    command = "python bench/instrumentation_overhead.py " + " ".join(sys.argv[1:])
    body = f"""## {args.label}

Command (from the repository root, in the dev venv):

```
{command.strip()}
```

{args.rounds} rounds; each round runs every variant once, in a new random order, for
{args.requests} sequential `POST /query` requests (after {args.warmup} warm-up requests per
variant), sent straight into the ASGI app as a server calls it (no HTTP client, no
network), the same cached question every time, so the time is the app's request path
plus instrumentation. "Overhead" is a variant's
time minus the baseline's in the same round; its median and interquartile range (IQR)
over the rounds are the robust figures, the per-variant IQR shows the machine's noise.

| variant | µs/request (median) | IQR | overhead vs baseline (µs, median) | overhead IQR |
|---|---:|---:|---:|---:|
{chr(10).join(rows)}

**The app's own metrics and logs against the instrumentator's metrics alone**, round by
round: the app's overhead minus the instrumentator's is {statistics.median(versus):+.1f} µs
(median; IQR {_iqr(versus, "+")}); the app cost no more in {cheaper} of {args.rounds} rounds.

Where the app's microseconds go (each piece on its own, µs per call, best of 5 x 2000):

| piece | µs |
|---|---:|
{pieces}

{machine_info()}

Notes: a cache hit writes the pipeline's lines (`query_received`, `response_returned`;
before issue 11 also `cache_hit`) and the access line `http_request` (rendered with orjson
to /dev/null), and updates the request, cache and answer counters and the
exemplar-carrying latency histogram. The two
libraries add only their own metrics or spans (no logs); the OpenTelemetry variant uses
the SDK providers without an exporter.
"""
    write_section(args.output, TITLE, args.label, body)
    print(body)


if __name__ == "__main__":
    main()
