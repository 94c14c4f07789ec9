"""The probes of issue 9, repeated as figures: what an attacker and an overloaded client do.

Each probe starts the app (``python -m sample_rag_app``) or the alert sink
(``python -m sample_rag_app.services.alert_sink``) as a real process on a free 127.0.0.1
port and talks to it
over sockets only, so the same probes run against an older tree for a before/after table
(``--before-source DIR``, e.g. ``git archive 1af7a1c | tar -x -C /tmp/before``):

- framing: three 100 MB chunked bodies behind ``Content-Length: 30`` (RSS before/peak);
- slow queries: 60 concurrent /query with 20 s of injected latency, then the latency of
  GET /metrics and DELETE /admin/faults while they run;
- half-open: 500 connections that never finish their headers, held up to 20 s: how many
  the server still holds at the end, and when it closed them;
- schemathesis (this tree only): every operation of both OpenAPI documents, ``--checks
  all``, bounded by ``--max-examples``; requests and 5xx as the servers logged them.

Usage: ``python bench/hostile_probes.py [--before-source DIR] [--max-examples 500]
[--fuzz-seconds 120]``.
Writes bench/results/hostile_probes.md. Loopback only; every process is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "hostile_probes.md"
TOKEN = "bench-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MIB = 1024 * 1024


@dataclass
class Proc:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        # JSON lines end at "\n" only: splitlines() would also split at U+2028 and \x1c..\x1e,
        # which a JSON string may hold unescaped.
        for text in self.log.read_text(encoding="utf-8", errors="replace").split("\n"):
            if not text:
                continue
            try:
                lines.append(json.loads(text))
            except ValueError:
                lines.append({"event": "<not json>", "text": text[:200]})
        return lines


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(
    module: str, source: Path, env: dict[str, str], ready: str, workdir: Path
) -> Iterator[Proc]:
    """Run ``python -m module`` from ``source`` until the block ends."""
    port = _free_port()
    prefix = "RAG" if module == "sample_rag_app" else "ALERT_SINK"
    log = workdir / f"{module}-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=source,
        env={
            **os.environ,
            "PYTHONPATH": str(source),
            f"{prefix}_HOST": "127.0.0.1",
            f"{prefix}_PORT": str(port),
            **env,
        },
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    proc = Proc(process, port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(proc.url + ready, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{module} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield proc
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _app_env(**extra: str) -> dict[str, str]:
    return {"RAG_ADMIN_TOKEN": TOKEN, "RAG_FAULT_LLM_ERROR_RATE": "0", **extra}


def probe_framing(source: Path, workdir: Path) -> dict[str, Any]:
    """Three 100 MB chunked bodies behind a small Content-Length."""
    head = (
        b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (MIB, b"x" * MIB)
    with serve("sample_rag_app", source, _app_env(), "/readyz", workdir) as app:
        before = app.rss()
        peak = before
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, app.rss())
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        statuses, accepted = [], []
        start = time.perf_counter()
        for _ in range(3):
            answer = bytearray()
            with socket.create_connection(("127.0.0.1", app.port), timeout=60) as conn:

                def read(conn: socket.socket = conn, answer: bytearray = answer) -> None:
                    try:
                        while data := conn.recv(65536):
                            answer.extend(data)
                    except OSError:
                        pass

                reader = threading.Thread(target=read)
                reader.start()
                sent = 0
                try:
                    conn.sendall(head)
                    for _ in range(100):
                        conn.sendall(chunk)
                        sent += MIB
                    conn.sendall(b"0\r\n\r\n")
                except OSError:
                    pass
                reader.join(60)
            statuses.append(bytes(answer[:12]).decode(errors="replace").split(" ")[-1] or "none")
            accepted.append(sent // MIB)
        seconds = time.perf_counter() - start
        time.sleep(0.5)
        after = app.rss()
        done.set()
        sampler.join()
    return {
        "rss_before_mib": before / MIB,
        "rss_peak_mib": peak / MIB,
        "rss_after_mib": after / MIB,
        "statuses": statuses,
        "mib_sent_before_close": accepted,
        "seconds": seconds,
    }


def probe_slow_queries(source: Path, workdir: Path) -> dict[str, Any]:
    """60 queries with 20 s of injected latency; how long /metrics and the admin take.
    (The LLM timeout is raised to 60 s: since the resilience layer, injected latency counts
    against it, and the probe is about 20 s of it holding the worker threads.)"""
    env = _app_env(RAG_LLM_TIMEOUT_SECONDS="60")
    with (
        serve("sample_rag_app", source, env, "/readyz", workdir) as app,
        httpx.Client(base_url=app.url, timeout=120) as client,
        ThreadPoolExecutor(66) as pool,
    ):
        client.put("/admin/faults", json={"added_latency_seconds": 20}, headers=AUTH)
        queries = [
            pool.submit(client.post, "/query", json={"question": f"slow question {n}"})
            for n in range(60)
        ]
        time.sleep(2)  # every query sent; 40 in the worker threads, the rest queued

        def timed(call: Callable[[], httpx.Response]) -> float:
            start = time.perf_counter()
            call()
            return time.perf_counter() - start

        # At the same moment, as a scrape and an operator would: neither waits for the other.
        scrape = pool.submit(timed, lambda: client.get("/metrics"))
        clear = pool.submit(timed, lambda: client.delete("/admin/faults", headers=AUTH))
        metrics = [scrape.result(), *(timed(lambda: client.get("/metrics")) for _ in range(2))]
        delete = clear.result()
        statuses = Counter(q.result().status_code for q in queries)
    return {
        "metrics_seconds": metrics,
        "delete_faults_seconds": delete,
        "query_statuses": dict(statuses),
    }


def probe_half_open(source: Path, workdir: Path, hold_seconds: float = 20.0) -> dict[str, Any]:
    """500 connections that never finish their headers, held up to ``hold_seconds``."""
    with serve("sample_rag_app", source, _app_env(), "/readyz", workdir) as app:
        conns = []
        for n in range(500):
            conn = socket.create_connection(("127.0.0.1", app.port), timeout=10)
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow-%d: " % n)
            conns.append(conn)
        opened = time.monotonic()
        healthz_start = time.perf_counter()
        healthz = httpx.get(app.url + "/healthz", timeout=10).status_code
        healthz_seconds = time.perf_counter() - healthz_start
        closed_at: list[float] = []
        for conn in conns:
            conn.settimeout(max(0.01, opened + hold_seconds - time.monotonic()))
            try:
                if conn.recv(1) == b"":
                    closed_at.append(time.monotonic() - opened)
            except (TimeoutError, ConnectionResetError):
                pass
            conn.close()
    return {
        "held": 500,
        "still_open_after_hold": 500 - len(closed_at),
        "last_closed_after_seconds": max(closed_at) if closed_at else None,
        "hold_seconds": hold_seconds,
        "healthz_status_during": healthz,
        "healthz_seconds_during": healthz_seconds,
    }


def run_schemathesis(url: str, name: str, workdir: Path, args: list[str]) -> dict[str, Any]:
    report = workdir / f"schemathesis-{name}.json"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--seed",
        "9",
        "--workers",
        "2",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        *args,
    ]
    subprocess.run(command, capture_output=True, text=True, check=False, timeout=1800)
    data = json.loads(report.read_text())
    return {
        "command": "schemathesis " + " ".join(command[2:]).replace(str(report), "REPORT.json"),
        "test_cases": data["test_cases"]["generated"],
        "failures": {f["code"] + " " + f["title"]: f["count"] for f in data["failures"]},
        "errors": len(data["errors"]),
    }


def _server_statuses(proc: Proc) -> Counter[int]:
    return Counter(
        int(line["status"]) for line in proc.log_lines() if line.get("event") == "http_request"
    )


def probe_schemathesis(
    workdir: Path, max_examples: int, max_seconds: int | None
) -> list[dict[str, Any]]:
    """Both OpenAPI documents; the admin PUTs apart, since the faults they set make /query
    answer the 5xx they are meant to cause."""
    bounded = ["--max-examples", str(max_examples), "--request-timeout", "30"]
    if max_seconds is not None:  # fuzz again and again until the time is spent
        bounded += ["--max-time", str(max_seconds)]
    runs = []
    # The simulated provider's quota (600 calls a minute) would answer part of the fuzzing
    # with its documented 503 rate_limited; lift it so the API itself is what is probed.
    app_env = _app_env(
        RAG_SIMULATED_LATENCY_MEDIAN_SECONDS="0",
        RAG_LOG_LEVEL="debug",
        RAG_RATE_LIMIT_REQUESTS_PER_MINUTE="100000000",
        RAG_RATE_LIMIT_TOKENS_PER_MINUTE="100000000000",
    )
    for name, extra in (
        ("app", ["--exclude-method", "PUT"]),
        ("app admin", ["--include-path-regex", "^/admin/"]),
    ):
        with serve("sample_rag_app", ROOT, app_env, "/readyz", workdir) as app:
            result = run_schemathesis(
                app.url, name, workdir, [*bounded, "-H", f"Authorization: Bearer {TOKEN}", *extra]
            )
            statuses = _server_statuses(app)
            lines = app.log_lines()
        result["requests"] = sum(statuses.values())
        result["server_5xx"] = sum(n for status, n in statuses.items() if status >= 500)
        failed = Counter(
            str(line.get("error_type", line["event"]))
            for line in lines
            if line.get("event") in {"query_failed", "unhandled_exception"}
        )
        result["server_5xx"] = f"{result['server_5xx']} {dict(failed) if failed else ''}".strip()
        result["non_json_log_lines"] = sum(1 for line in lines if line["event"] == "<not json>")
        result["name"] = name
        runs.append(result)
    with serve(
        "sample_rag_app.services.alert_sink",
        ROOT,
        {"ALERT_SINK_DATA_FILE": str(workdir / "alerts.jsonl")},
        "/healthz",
        workdir,
    ) as sink:
        result = run_schemathesis(sink.url, "sink", workdir, bounded)
        lines = sink.log_lines()
    result["requests"] = None  # the sink writes no access log; see test_cases
    result["server_5xx"] = sum(1 for line in lines if line.get("event") == "unhandled_exception")
    result["non_json_log_lines"] = sum(1 for line in lines if line["event"] == "<not json>")
    result["name"] = "alert sink"
    runs.append(result)
    return runs


def _row(label: str, before: Any, after: Any) -> str:
    return f"| {label} | {before} | {after} |"


def render(
    probes: dict[str, dict[str, Any]],
    before: dict[str, dict[str, Any]] | None,
    fuzz: list[dict[str, Any]],
    argv: list[str],
) -> str:
    b = before or {}

    def fmt(result: dict[str, Any] | None, key: str, spec: str = "{:.1f}") -> str:
        if result is None:
            return "not run"
        value = result[key]
        if isinstance(value, list):
            return ", ".join(spec.format(v) if isinstance(v, float) else str(v) for v in value)
        return spec.format(value) if isinstance(value, float) else str(value)

    f, s, h = probes["framing"], probes["slow_queries"], probes["half_open"]
    lines = [
        "# Hostile probes: the app and the alert sink as an attacker and an overloaded client",
        "",
        "Command (repository root, dev venv with schemathesis installed):",
        "",
        "```",
        "python bench/hostile_probes.py " + " ".join(argv),
        "```",
        "",
        "Before: the tree given as `--before-source`; after: this tree. Real processes on",
        "127.0.0.1, talked to over sockets (see the module docstring for each probe).",
        "",
        "| probe | before | after |",
        "|---|---|---|",
        _row(
            "framing: 3 x 100 MB chunked behind Content-Length: 30, statuses",
            fmt(b.get("framing"), "statuses"),
            fmt(f, "statuses"),
        ),
        _row(
            "framing: MiB sent per body before the connection broke",
            fmt(b.get("framing"), "mib_sent_before_close"),
            fmt(f, "mib_sent_before_close"),
        ),
        _row(
            "framing: RSS before -> peak, MiB",
            (
                f"{b['framing']['rss_before_mib']:.0f} -> {b['framing']['rss_peak_mib']:.0f}"
                if "framing" in b
                else "not run"
            ),
            f"{f['rss_before_mib']:.0f} -> {f['rss_peak_mib']:.0f}",
        ),
        _row(
            "60 queries with 20 s injected latency: GET /metrics, s (3 in a row)",
            fmt(b.get("slow_queries"), "metrics_seconds", "{:.3f}"),
            fmt(s, "metrics_seconds", "{:.3f}"),
        ),
        _row(
            "same: DELETE /admin/faults, sent with the first GET /metrics, s",
            fmt(b.get("slow_queries"), "delete_faults_seconds", "{:.3f}"),
            fmt(s, "delete_faults_seconds", "{:.3f}"),
        ),
        _row(
            "same: query statuses",
            fmt(b.get("slow_queries"), "query_statuses"),
            fmt(s, "query_statuses"),
        ),
        _row(
            f"500 half-open connections: still open after {h['hold_seconds']:.0f} s",
            fmt(b.get("half_open"), "still_open_after_hold"),
            fmt(h, "still_open_after_hold"),
        ),
        _row(
            "same: last one closed after, s",
            fmt(b.get("half_open"), "last_closed_after_seconds"),
            fmt(h, "last_closed_after_seconds"),
        ),
        _row(
            "same: GET /healthz while they are held (status, s)",
            (
                f"{b['half_open']['healthz_status_during']}, "
                f"{b['half_open']['healthz_seconds_during']:.3f}"
                if "half_open" in b
                else "not run"
            ),
            f"{h['healthz_status_during']}, {h['healthz_seconds_during']:.3f}",
        ),
        "",
        "## schemathesis, after",
        "",
        "| document | test cases | requests the server logged | 5xx | failures "
        "| non-JSON log lines |",
        "|---|---:|---:|---:|---|---:|",
    ]
    for run in fuzz:
        failures = ", ".join(f"{k}: {v}" for k, v in run["failures"].items()) or "none"
        requests = run["requests"] if run["requests"] is not None else "(no access log)"
        lines.append(
            f"| {run['name']} | {run['test_cases']} | {requests} | {run['server_5xx']} "
            f"| {failures} | {run['non_json_log_lines']} |"
        )
    lines += ["", "Commands:", ""]
    lines += [f"- {run['name']}: `{run['command']}`" for run in fuzz]
    lines += ["", "## Machine", "", machine_info(), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before-source", type=Path, help="an older tree to probe too")
    parser.add_argument("--max-examples", type=int, default=500)
    parser.add_argument(
        "--fuzz-seconds", type=int, help="schemathesis --max-time per document (repeats)"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="hostile-probes-"))
    try:
        probes: dict[str, dict[str, Any]] = {}
        before: dict[str, dict[str, Any]] | None = None
        trees = [("after", ROOT)]
        if args.before_source:
            before = {}
            trees.insert(0, ("before", args.before_source.resolve()))
        for label, source in trees:
            target = before if label == "before" and before is not None else probes
            for name, probe in (
                ("framing", probe_framing),
                ("slow_queries", probe_slow_queries),
                ("half_open", probe_half_open),
            ):
                print(f"{label}: {name}", file=sys.stderr)
                target[name] = probe(source, workdir)
        print("schemathesis", file=sys.stderr)
        fuzz = probe_schemathesis(workdir, args.max_examples, args.fuzz_seconds)
        RESULTS.write_text(render(probes, before, fuzz, sys.argv[1:]), encoding="utf-8")
        print(RESULTS.read_text())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
