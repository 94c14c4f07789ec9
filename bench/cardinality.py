"""Does hostile traffic create metric series? 50 000 requests, then count the series.

Every request has a unique correlation id (or a malformed one); they go to random
unknown paths, with wrong methods, malformed or wrong-typed JSON, blank, oversized or
over-long questions, and a share of valid queries with unique questions. The number of
series on /metrics (text format) before and after must be the same.

Runs in process (httpx ASGITransport, no network), bounded by --requests and --max-seconds.
Usage: ``python bench/cardinality.py [--requests 50000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import string
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import in_process_client, machine_info

from sample_rag_app.main import create_app
from sample_rag_app.runtime.logging import configure_logging
from sample_rag_app.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "cardinality.md"
JSON = {"Content-Type": "application/json"}


def series(text: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """Every (sample name, labels) pair of a text exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items())))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _random_text(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choices(alphabet, k=rng.randint(low, high)))


async def _one(client: httpx.AsyncClient, rng: random.Random, i: int) -> tuple[str, int]:
    headers = {"X-Correlation-ID": f"card-{i}-{rng.getrandbits(48):x}"}
    if rng.random() < 0.05:
        headers = {"X-Correlation-ID": _random_text(rng, string.printable[:94] + " ", 65, 90)}
    kind = rng.choice(
        ["unknown_path", "wrong_method", "malformed_json", "wrong_type", "blank", "too_long",
         "oversized_body", "bad_top_k", "valid_unique_question"]
    )  # fmt: skip
    if kind == "unknown_path":
        path = "/" + _random_text(rng, string.ascii_letters + string.digits + "/-_.~%", 1, 60)
        response = await client.request(rng.choice(["GET", "POST", "HEAD"]), path, headers=headers)
    elif kind == "wrong_method":
        path = rng.choice(["/query", "/metrics", "/healthz", "/readyz"])
        response = await client.request(
            rng.choice(["PUT", "PATCH", "DELETE"]), path, headers=headers
        )
    elif kind == "malformed_json":
        body = rng.choice(["{", '{"question": ', "[1, 2", "nul", '{"question": "x",}'])
        response = await client.post("/query", content=body, headers={**headers, **JSON})
    elif kind == "wrong_type":
        value = rng.choice([1, 2.5, None, [], {}, True])
        response = await client.post("/query", json={"question": value}, headers=headers)
    elif kind == "blank":
        response = await client.post(
            "/query", json={"question": " " * rng.randint(0, 9)}, headers=headers
        )
    elif kind == "too_long":
        response = await client.post("/query", json={"question": "x" * 2001}, headers=headers)
    elif kind == "oversized_body":
        body = json.dumps({"question": "y" * 20_000})
        response = await client.post("/query", content=body, headers={**headers, **JSON})
    elif kind == "bad_top_k":
        top_k = rng.choice([0, -1, 21, 1000, "4", 3.5])
        response = await client.post(
            "/query", json={"question": "q", "top_k": top_k}, headers=headers
        )
    else:
        question = f"What about {_random_text(rng, string.ascii_lowercase + ' ', 5, 40)}?"
        response = await client.post("/query", json={"question": question}, headers=headers)
    return kind, response.status_code


async def run(requests: int, max_seconds: float, seed: int) -> dict[str, object]:
    settings = Settings(
        simulated_latency_median_seconds=0.0,
        rate_limit_requests_per_minute=10_000_000,
        rate_limit_tokens_per_minute=10_000_000_000,
        cache_max_size=1024,
    )
    app = create_app(settings, CollectorRegistry())
    app.state.pipeline.load()
    rng = random.Random(seed)
    statuses: Counter[tuple[str, int]] = Counter()
    async with in_process_client(app) as client:
        # Warm-up: one successful query so every series that success creates exists.
        await client.post("/query", json={"question": "warm up"})
        before_text = (await client.get("/metrics")).text
        start = time.perf_counter()
        sent = 0
        while sent < requests and time.perf_counter() - start < max_seconds:
            statuses[await _one(client, rng, sent)] += 1
            sent += 1
        elapsed = time.perf_counter() - start
        after_text = (await client.get("/metrics")).text
    before, after = series(before_text), series(after_text)
    return {
        "sent": sent,
        "elapsed": elapsed,
        "before": before,
        "after": after,
        "statuses": statuses,
        "invalid": {
            s[1][0][1]: v
            for s in after
            if s[0] == "rag_invalid_requests_total"
            for v in [_value(after_text, s[1][0][1])]
        },
    }


def _value(text: str, reason: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "rag_invalid_requests_total" and sample.labels["reason"] == reason:
                return float(sample.value)
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not 1 <= args.requests <= 200_000:
        parser.error("requests must be 1..200000")
    configure_logging("critical", "rag-bench", route_stdlib=False)

    result = asyncio.run(run(args.requests, args.max_seconds, args.seed))
    before, after = result["before"], result["after"]
    assert isinstance(before, set)
    assert isinstance(after, set)
    statuses = result["statuses"]
    assert isinstance(statuses, Counter)
    by_kind: dict[str, Counter[int]] = {}
    for (kind, status), count in statuses.items():
        by_kind.setdefault(kind, Counter())[status] += count
    kind_rows = "\n".join(
        f"| {kind} | {sum(c.values())} | "
        + ", ".join(f"{s}: {n}" for s, n in sorted(c.items()))
        + " |"
        for kind, c in sorted(by_kind.items())
    )
    invalid = result["invalid"]
    assert isinstance(invalid, dict)
    invalid_rows = "\n".join(f"| {r} | {int(v)} |" for r, v in sorted(invalid.items()))
    verdict = "unchanged" if before == after else "CHANGED"
    command = "python bench/cardinality.py " + " ".join(sys.argv[1:])
    report = f"""# Metric cardinality under hostile traffic

Command (from the repository root, in the dev venv):

```
{command.strip()}
```

{result["sent"]} requests in {result["elapsed"]:.1f} s, in process (httpx ASGITransport),
each with a unique correlation id (5 % malformed ones instead), spread over unknown
paths, wrong methods, malformed JSON, wrong types, blank, over-long and oversized
questions, bad top_k and valid queries with unique questions (seed {args.seed}).

| | series on /metrics |
|---|---:|
| before | {len(before)} |
| after | {len(after)} |
| result | **{verdict}** (same names and label sets: {before == after}) |

Requests by kind and status:

| kind | requests | statuses |
|---|---:|---|
{kind_rows}

`rag_invalid_requests_total` after the run (its fixed reasons; nothing else was created):

| reason | count |
|---|---:|
{invalid_rows}

Machine:

{machine_info()}
"""
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report, encoding="utf-8")
    print(report)
    if before != after:
        sys.exit(f"series changed: +{sorted(after - before)[:10]} -{sorted(before - after)[:10]}")


if __name__ == "__main__":
    main()
