"""The sample app's findings of issue 9, reproduced against `python -m sample_rag_app`."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from lab.kit.polling import poll_until
from tests.reliability.conftest import ADMIN_TOKEN, ServerFactory, raw_exchange

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MIB = 1024 * 1024


def _peak_rss_while(server_rss: Callable[[], int], action: Callable[[], object]) -> int:
    """Run ``action`` while sampling the server's RSS every 10 ms; the highest sample."""
    peak = server_rss()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, server_rss())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        action()
    finally:
        done.set()
        sampler.join()
    return peak


def _push_body(port: int, head: bytes, megabytes: int) -> tuple[bytes, int]:
    """Send ``head`` and up to ``megabytes`` of chunked body while a second thread reads
    the answer: the answer and how many body bytes went out before the server closed."""
    chunk = b"%x\r\n%s\r\n" % (MIB, b"x" * MIB)
    sent = 0
    response = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:

        def read() -> None:
            try:
                while data := conn.recv(65536):
                    response.extend(data)
            except OSError:
                pass

        reader = threading.Thread(target=read)
        reader.start()
        try:
            conn.sendall(head)
            for _ in range(megabytes):
                conn.sendall(chunk)
                sent += len(chunk)
            conn.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection: the point of the test
        reader.join(10)
    return bytes(response), sent


def test_conflicting_framing_is_refused_and_memory_stays_flat(start_app: ServerFactory) -> None:
    """Finding 1: three 100 MB chunked bodies behind a small Content-Length get a 400 with
    the JSON error shape, and the process's memory does not grow with them."""
    app = start_app()
    head = (
        b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    responses: list[bytes] = []
    before = app.rss

    def attack() -> None:
        for _ in range(3):
            responses.append(_push_body(app.port, head, 100)[0])

    peak = _peak_rss_while(lambda: app.rss, attack)
    for response in responses:
        head_part, _, body = response.partition(b"\r\n\r\n")
        assert head_part.startswith(b"HTTP/1.1 400 Bad Request"), response[:200]
        assert b"connection: close" in head_part.lower()
        assert json.loads(body)["error"] == "invalid_framing"
    assert peak - before < 30 * MIB, f"RSS grew {(peak - before) / MIB:.0f} MiB"


def test_a_chunked_body_is_cut_off_at_the_limit(start_app: ServerFactory) -> None:
    """Finding 1: without Content-Length the bytes that arrive are counted: 413 after
    RAG_MAX_BODY_BYTES, and the rest of a 100 MB body is never read into memory."""
    app = start_app()
    head = (
        b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    before = app.rss
    result: list[tuple[bytes, int]] = []
    peak = _peak_rss_while(lambda: app.rss, lambda: result.append(_push_body(app.port, head, 100)))
    response, sent = result[0]
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    assert sent < 100 * MIB
    assert peak - before < 30 * MIB


def test_a_lone_surrogate_is_a_422_logged_without_a_traceback(start_app: ServerFactory) -> None:
    """Finding 2: a lone surrogate in the question or in a key answers 422 with the id;
    nothing is logged as an error and every log line stays JSON."""
    app = start_app()
    with app.client() as client:
        for body in ('{"question":"x \\ud800 y"}', '{"question":"q","\\ud800":1}'):
            response = client.post(
                "/query",
                content=body,
                headers={"Content-Type": "application/json", "X-Correlation-ID": "sur-1"},
            )
            assert response.status_code == 422, response.text
            assert response.json()["error"] == "invalid_body"
            assert response.headers["X-Correlation-ID"] == "sur-1"
        metrics = client.get("/metrics").text
    assert 'rag_invalid_requests_total{reason="invalid_body"} 2.0' in metrics
    assert "rag_requests_total 0.0" in metrics
    assert not [line for line in app.log_lines() if line["level"] == "error"]


def test_metrics_and_admin_answer_under_sixty_slow_queries(start_app: ServerFactory) -> None:
    """Finding 3: with 5 s of injected latency and 60 queries in flight (more than the
    40 worker threads), GET /metrics and DELETE /admin/faults answer in well under a second.
    (The LLM timeout is raised so that the injected latency is served, not cut at 5 s.)"""
    app = start_app(llm_timeout_seconds="30")
    with app.client(timeout=30) as client:
        assert (
            client.put("/admin/faults", json={"added_latency_seconds": 5}, headers=AUTH).status_code
            == 200
        )
        with ThreadPoolExecutor(60) as pool:
            queries = [
                pool.submit(client.post, "/query", json={"question": f"slow question {n}"})
                for n in range(60)
            ]
            poll_until(
                lambda: "rag_requests_total 40.0" in client.get("/metrics").text,
                timeout=10,
                interval=0.05,
                describe="40 queries inside the pipeline",
            )
            timings = {}
            for name, call in (
                ("metrics", lambda: client.get("/metrics")),
                ("healthz", lambda: client.get("/healthz")),
                ("get_faults", lambda: client.get("/admin/faults", headers=AUTH)),
                ("delete_faults", lambda: client.delete("/admin/faults", headers=AUTH)),
            ):
                start = time.perf_counter()
                assert call().status_code == 200
                timings[name] = time.perf_counter() - start
            assert all(not q.done() for q in queries[:40]), "the queries were not slow"
            statuses = [q.result().status_code for q in queries]
    assert max(timings.values()) < 1.0, timings
    assert statuses == [200] * 60


def test_admin_token_is_checked_before_the_body_and_values_are_strict(
    start_app: ServerFactory,
) -> None:
    """Finding 4: malformed JSON without the token is a 401, not a 400; "0.5", true and
    "yes" are not coerced into fault values."""
    app = start_app()
    with app.client() as client:
        unauthenticated = client.put(
            "/admin/faults", content=b"{{{", headers={"Content-Type": "application/json"}
        )
        assert unauthenticated.status_code == 401
        for loose in (
            {"llm_error_rate": "0.5"},
            {"llm_error_rate": True},
            {"vector_store_down": "yes"},
        ):
            assert client.put("/admin/faults", json=loose, headers=AUTH).status_code == 422


def test_half_open_connections_are_closed_and_service_continues(start_app: ServerFactory) -> None:
    """Finding 5: 500 connections that never finish their headers are closed by the
    request deadline (2 s here); while they are held, /healthz still answers."""
    app = start_app(request_read_timeout_seconds="2")
    held = []
    try:
        for n in range(500):
            conn = socket.create_connection(("127.0.0.1", app.port), timeout=10)
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow-%d: " % n)
            held.append(conn)
        opened = time.monotonic()
        start = time.perf_counter()
        assert httpx.get(app.url + "/healthz", timeout=5).status_code == 200
        assert time.perf_counter() - start < 1.0
        closed = 0
        for conn in held:
            conn.settimeout(max(0.1, opened + 6 - time.monotonic()))
            try:
                if conn.recv(1) == b"":
                    closed += 1
            except (TimeoutError, ConnectionResetError):
                pass
        assert closed == 500
        assert time.monotonic() - opened < 6
    finally:
        for conn in held:
            conn.close()
    poll_until(lambda: app.open_connections == 0, timeout=5, interval=0.1, describe="no sockets")


def test_the_concurrency_limit_answers_503_beyond_it(start_app: ServerFactory) -> None:
    """Finding 5: beyond RAG_LIMIT_CONCURRENCY open connections a request is refused with
    503 at once, rather than queued without bound."""
    app = start_app(limit_concurrency="20")
    held = [socket.create_connection(("127.0.0.1", app.port)) for _ in range(25)]
    try:
        poll_until(lambda: app.open_connections >= 25, timeout=5, interval=0.05, describe="25 held")
        response = raw_exchange(app.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=2)
        assert response.startswith(b"HTTP/1.1 503"), response[:100]
    finally:
        for conn in held:
            conn.close()


def test_methods_as_documented(start_app: ServerFactory) -> None:
    """Finding 6: HEAD on the probes answers 200 without a body through uvicorn; OPTIONS
    is a 405 whose Allow lists every method of the path."""
    app = start_app()
    head = raw_exchange(app.port, b"HEAD /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert head.endswith(b"\r\n\r\n")  # headers only
    with app.client() as client:
        options = client.options("/admin/faults")
        assert options.status_code == 405
        assert options.headers["Allow"] == "DELETE, GET, PUT"
        question = client.get("/openapi.json").json()["components"]["schemas"]["QueryRequest"]
        assert question["properties"]["question"]["maxLength"] == 2000
