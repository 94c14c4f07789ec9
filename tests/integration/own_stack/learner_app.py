"""A learner's M2.3 RAG app, written to the course's notebook, not by the lab.

The shape the bridge notebook describes: the seven rag_* families on prometheus_client's
default registry (plain-text /metrics with the default process and GC collectors), JSON
log lines with `request_id` and a `message` ("Query received" ... "Response returned")
written to a file, and POST /query answering with the request's id in its body.

Only for tests/integration/test_own_stack.py: the file LOGS_DIR/no-request-id, when it
exists, makes the app leave the id out of its log lines (the "logs without the id" break).
"""

import json
import os
import random
import time
import uuid
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from prometheus_client import Counter, Gauge, Histogram, generate_latest
from pydantic import BaseModel

LOGS = Path(os.environ.get("LOGS_DIR", "/logs"))
LOG_FILE = LOGS / "app.jsonl"

REQUESTS = Counter("rag_requests_total", "RAG queries received")
ERRORS = Counter("rag_errors_total", "RAG queries that failed")
LATENCY = Histogram(
    "rag_query_duration_seconds",
    "RAG query latency",
    buckets=(0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
)
CACHE_HITS = Counter("rag_cache_hits_total", "Semantic cache hits")
CACHE_REQUESTS = Counter("rag_cache_requests_total", "Semantic cache lookups")
COST = Counter("rag_cost_usd_total", "LLM spend in USD")
HEADROOM = Gauge("rag_rate_limit_headroom_percent", "Rate limit left at the LLM provider")
HEADROOM.set(85)

app = FastAPI()


class Query(BaseModel):
    question: str


def log(message: str, request_id: str, **fields: object) -> None:
    line: dict[str, object] = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "level": "INFO",
        "message": message,
        **fields,
    }
    if not (LOGS / "no-request-id").exists():
        line["request_id"] = request_id
    with LOG_FILE.open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


@app.post("/query")
def query(body: Query) -> dict[str, object]:
    request_id = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    REQUESTS.inc()
    log("Query received", request_id, query=body.question)
    CACHE_REQUESTS.inc()
    if random.random() < 0.3:
        CACHE_HITS.inc()
    log("Embedding generated", request_id, latency_ms=4)
    log("Vector search completed", request_id, results_count=5)
    COST.inc(0.002)
    log("LLM call completed", request_id, tokens=450)
    LATENCY.observe(time.perf_counter() - started + 0.12)
    log("Response returned", request_id, status="success")
    return {"answer": f"An answer to {body.question!r}", "request_id": request_id}


@app.get("/metrics")
def metrics() -> PlainTextResponse:
    return PlainTextResponse(generate_latest().decode())


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=8000, log_level="warning")
