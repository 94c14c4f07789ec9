"""The alert sink's findings of issue 9, reproduced against
`python -m sample_rag_app.services.alert_sink`."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from lab.kit.polling import poll_until
from tests.reliability.conftest import ServerFactory, notification, raw_exchange

MIB = 1024 * 1024


def _post(client: httpx.Client, body: Any) -> httpx.Response:
    return client.post(
        "/webhook", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )


def test_a_torn_last_line_is_cut_so_the_next_alert_survives(
    start_sink: ServerFactory, tmp_path: Path
) -> None:
    """Finding 7: the sink dies mid-write (half a line on disk); after a restart the next
    acknowledged alert is on a line of its own and survives another crash."""
    data = tmp_path / "alerts.jsonl"
    sink = start_sink()
    with sink.client() as client:
        assert _post(client, notification("First")).status_code == 200
    sink.kill()
    line = data.read_bytes()
    with data.open("ab") as handle:
        handle.write(line[: len(line) // 2])  # what a crash in the middle of write() leaves
    sink = start_sink()
    assert data.read_bytes() == line
    with sink.client() as client:
        assert _post(client, notification("Second")).status_code == 200
    sink.kill()
    sink = start_sink()
    with sink.client() as client:
        names = [a["alertname"] for a in client.get("/alerts").json()["alerts"]]
    assert names == ["First", "Second"]
    assert any(line["event"] == "cut_torn_last_line" for line in _lines(tmp_path, "sink-1"))


def _lines(tmp_path: Path, run: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (tmp_path / f"{run}.out").read_text().split("\n") if x]


def test_no_acknowledged_alert_is_lost_when_killed_under_load(
    start_sink: ServerFactory, tmp_path: Path
) -> None:
    """Finding 7: SIGKILL at random moments while 256 KiB notifications stream in; after
    the restart the file ends on a whole line and every acknowledged alert is listed.
    (Whether a kill lands inside a write is chance; the test above makes sure one does.)"""
    acknowledged: list[str] = []
    rng = random.Random(9)
    padding = "x" * (256 * 1024)
    budget = str(1024 * MIB)  # GET /alerts serves memory: keep every notification there
    for round_ in range(4):
        sink = start_sink(memory_max_bytes=budget)
        stop = threading.Event()

        def send(round_: int = round_, port: int = sink.port, stop: threading.Event = stop) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                for n in range(1000):
                    if stop.is_set():
                        return
                    name = f"R{round_}N{n}"
                    body = notification(name)
                    body["alerts"][0]["annotations"]["padding"] = padding
                    try:
                        if _post(client, body).status_code == 200:
                            acknowledged.append(name)
                    except httpx.HTTPError:
                        return

        sender = threading.Thread(target=send)
        acknowledged_before = len(acknowledged)
        sender.start()
        # The kill lands at a random moment once this round's first notification is
        # acknowledged: a fixed sleep alone found none acknowledged on a loaded machine.
        poll_until(
            lambda before=acknowledged_before: True if len(acknowledged) > before else None,
            timeout=30,
            interval=0.02,
            describe="this round's first acknowledged notification",
        )
        time.sleep(rng.uniform(0.2, 0.5))
        sink.kill()
        stop.set()
        sender.join(10)
    sink = start_sink(memory_max_bytes=budget)
    assert (tmp_path / "alerts.jsonl").read_bytes().endswith(b"\n")
    listed: list[str] = []
    with sink.client() as client:
        before = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if before is not None:
                params["before"] = before
            page = client.get("/alerts", params=params).json()
            listed = [a["alertname"] for a in page["alerts"]] + listed
            before = page["next_before"]
            if before is None:
                break
    assert len(acknowledged) >= 4
    assert set(acknowledged) <= set(listed)


def test_a_lone_surrogate_is_refused_and_stored_ones_do_not_break_listing(
    start_sink: ServerFactory, tmp_path: Path
) -> None:
    """Finding 8: a label with a lone surrogate is a 422; a line an older sink stored with
    one is skipped on start, and GET /alerts answers 200 across restarts."""
    good = notification("Good")
    bad = notification("Bad", job="\ud800")
    (tmp_path / "alerts.jsonl").write_text(
        "".join(
            json.dumps({"receivedAt": "2026-11-28T15:00:00+00:00", "notification": n}) + "\n"
            for n in (good, bad, good)
        )
    )
    sink = start_sink()
    with sink.client() as client:
        assert _post(client, bad).status_code == 422
        listing = client.get("/alerts")
        assert listing.status_code == 200
        assert [a["alertname"] for a in listing.json()["alerts"]] == ["Good", "Good"]
    sink.stop()
    with start_sink().client() as client:
        assert client.get("/alerts").status_code == 200


def test_bodies_are_bounded_and_memory_stays_flat(start_sink: ServerFactory) -> None:
    """Finding 9: a 50 MB webhook is refused (413) by its declared length and, chunked, by
    the bytes that arrive; Content-Length with Transfer-Encoding is a 400; RSS stays flat."""
    sink = start_sink()
    before = sink.rss
    declared = raw_exchange(
        sink.port,
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 52428800\r\n\r\n{",
    )
    assert declared.startswith(b"HTTP/1.1 413"), declared[:100]
    ambiguous = raw_exchange(
        sink.port,
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n4\r\n{}{}\r\n0\r\n\r\n",
    )
    assert ambiguous.startswith(b"HTTP/1.1 400"), ambiguous[:100]

    def chunks() -> Any:
        for _ in range(50):
            yield b"x" * MIB

    with sink.client(timeout=30) as client:
        try:
            streamed = client.post(
                "/webhook", content=chunks(), headers={"Content-Type": "application/json"}
            ).status_code
        except httpx.HTTPError:  # the sink answered 413 and closed while we were sending
            streamed = 413
        assert streamed == 413
        assert _post(client, notification()).status_code == 200
    assert sink.rss - before < 30 * MIB
    assert sink.process.poll() is None


def test_alerts_are_paged_and_memory_keeps_only_the_newest(
    start_sink: ServerFactory, tmp_path: Path
) -> None:
    """Finding 9: GET /alerts answers 100 alerts by default with a cursor to older ones,
    and memory keeps the newest notifications within its budget while the file keeps all."""
    sink = start_sink(memory_max_bytes=str(60 * 1024))
    with sink.client() as client:
        for n in range(300):
            assert _post(client, notification(f"A{n}")).status_code == 200
        page = client.get("/alerts").json()
        assert page["count"] == 100
        assert page["alerts"][-1]["alertname"] == "A299"
        assert page["next_before"] is not None
        in_memory = client.get("/healthz").json()["notifications"]
    assert 50 < in_memory < 300
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 300


def test_deep_nesting_is_refused_and_the_sink_keeps_working(start_sink: ServerFactory) -> None:
    """Finding 10: an extra field nested 900 levels deep is a 422, not a 500; the next
    notification is stored."""
    sink = start_sink()
    nested: Any = "x"
    for _ in range(900):
        nested = [nested]
    with sink.client() as client:
        response = _post(client, {**notification(), "extra": nested})
        assert response.status_code == 422
        assert _post(client, notification()).status_code == 200


def test_every_line_the_sink_writes_is_json(start_sink: ServerFactory) -> None:
    """Finding 11: the sink's own records and uvicorn's (a request that is not HTTP) are
    JSON lines on stdout; stderr stays empty."""
    sink = start_sink()
    assert raw_exchange(sink.port, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400")
    with sink.client() as client:
        _post(client, {"version": "4"})
    sink.stop()
    lines = sink.log_lines()
    assert {"starting", "invalid_request", "Invalid HTTP request received."} <= {
        line["event"] for line in lines
    }
    assert sink.stderr.read_text() == ""
