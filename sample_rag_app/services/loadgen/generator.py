"""The load generator: Poisson arrivals at a steady mean rate, sent from a thread pool.

It never crashes on the app's errors or timeouts: each outcome is counted and logged,
and a progress line summarises them periodically. It serves no port, so its liveness is a
file (`Heartbeat`) that a probe reads. With several replicas behind one name
(compose's DNS for `--scale app=N`), each request goes to the next of the name's current
addresses (`ReplicaRotation`), so the traffic spreads evenly and a replica that leaves the
name stops getting any.
"""

from __future__ import annotations

import itertools
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import requests
import structlog

from sample_rag_app.runtime.correlation import CORRELATION_HEADER
from sample_rag_app.services.loadgen.heartbeat import HEARTBEAT_FILE, Heartbeat
from sample_rag_app.services.loadgen.questions import QuestionSource
from sample_rag_app.services.loadgen.settings import LoadgenSettings

logger = structlog.get_logger("sample_rag_app.services.loadgen")


def new_correlation_id() -> str:
    """``loadgen-`` and 16 hex digits: valid for the app (<= 64 of [A-Za-z0-9._-])."""
    return f"loadgen-{uuid.uuid4().hex[:16]}"


Resolver = Callable[[str, int], list[str]]


def resolve_addresses(host: str, port: int) -> list[str]:
    """The host's addresses, sorted (IPv4 only when it has any); [] when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    ipv4 = sorted({str(info[4][0]) for info in infos if info[0] == socket.AF_INET})
    return ipv4 or sorted({str(info[4][0]) for info in infos})


class ReplicaRotation:
    """Where the next request goes: the next address of the target's name, looked up anew.

    Compose answers a scaled service's name with one address per running replica. A
    pooled HTTP client resolves it once and then keeps its keep-alive connection, so all
    traffic would reach one replica; looking the name up for each request (compose's DNS
    is local and fast) and taking the addresses in turn spreads it evenly, and follows
    replicas that come and go. The request keeps the name in its Host header.
    """

    def __init__(self, target_url: str, *, resolve: Resolver = resolve_addresses) -> None:
        parts = urlsplit(target_url.rstrip("/"))
        self._base = target_url.rstrip("/")
        self._scheme = parts.scheme
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._path = parts.path
        self._host_header = parts.netloc
        self._resolve = resolve
        self._turn = itertools.count()

    def next_base(self) -> tuple[str, dict[str, str]]:
        """The base URL of the next request and the headers it needs (Host)."""
        if self._scheme != "http":
            return self._base, {}
        addresses = self._resolve(self._host, self._port)
        if not addresses or addresses == [self._host]:
            return self._base, {}
        address = addresses[next(self._turn) % len(addresses)]
        netloc = f"[{address}]:{self._port}" if ":" in address else f"{address}:{self._port}"
        return f"http://{netloc}{self._path}", {"Host": self._host_header}


class LoadGenerator:
    """Sends ``POST /query`` to ``settings.target_url`` until stopped or the duration ends."""

    def __init__(
        self,
        settings: LoadgenSettings,
        *,
        rng: random.Random | None = None,
        session_factory: Callable[[], requests.Session] = requests.Session,
        clock: Callable[[], float] = time.monotonic,
        resolve: Resolver = resolve_addresses,
        heartbeat_file: Path | None = HEARTBEAT_FILE,
    ) -> None:
        self.settings = settings
        self._heartbeat = Heartbeat.for_settings(settings, heartbeat_file)
        self._rng = rng or random.Random(settings.seed)
        self._questions = QuestionSource(self._rng, settings.repeat_fraction)
        self._session_factory = session_factory
        self._local = threading.local()
        self._clock = clock
        self._slots = threading.BoundedSemaphore(settings.max_in_flight)
        self._lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()
        self.stop_event = threading.Event()
        self._base = settings.target_url.rstrip("/")
        self._rotation = (
            ReplicaRotation(settings.target_url, resolve=resolve)
            if settings.spread_over_replicas
            else None
        )

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._session_factory()
            self._local.session = session
        return session

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1

    def _beat(self) -> None:
        """A file it cannot write is logged once and dropped: the traffic matters more."""
        try:
            self._heartbeat.beat()
        except OSError as exc:
            logger.warning("heartbeat_unwritable", path=str(exc.filename), error=exc.strerror)
            self._heartbeat.path = None

    def wait_until_ready(self) -> bool:
        """Poll ``/readyz`` once a second until it answers 200 (True) or the timeout (False)."""
        deadline = self._clock() + self.settings.ready_timeout_seconds
        attempt = 0
        while not self.stop_event.is_set():
            attempt += 1
            try:
                response = self._session().get(f"{self._base}/readyz", timeout=2)
                if response.status_code == 200:
                    logger.info("target_ready", target_url=self._base, attempts=attempt)
                    return True
                status: object = response.status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            self._beat()
            if self._clock() >= deadline:
                logger.error("target_not_ready", target_url=self._base, last=status)
                return False
            if attempt == 1 or attempt % 10 == 0:
                logger.info("waiting_for_target", target_url=self._base, last=status)
            self.stop_event.wait(1.0)
        return False

    def send_one(self, question: str, repeated: bool) -> str:
        """Send one query; return its outcome (``ok``, ``http_<status>``, ``timeout`` ...)."""
        correlation_id = new_correlation_id()
        start = time.perf_counter()
        outcome: str
        base, headers = self._rotation.next_base() if self._rotation else (self._base, {})
        try:
            response = self._session().post(
                f"{base}/query",
                json={"question": question, "top_k": self.settings.top_k},
                headers={CORRELATION_HEADER: correlation_id, **headers},
                timeout=self.settings.request_timeout_seconds,
            )
            outcome = "ok" if response.status_code == 200 else f"http_{response.status_code}"
        except requests.Timeout:
            outcome = "timeout"
        except requests.RequestException as exc:
            outcome = f"connection_error:{type(exc).__name__}"
        except Exception as exc:  # never let a worker die
            outcome = f"unexpected:{type(exc).__name__}"
        duration_ms = round((time.perf_counter() - start) * 1000.0, 3)
        self._count(outcome)
        self._beat()
        log = logger.debug if outcome == "ok" else logger.warning
        log(
            "query_sent",
            correlation_id=correlation_id,
            outcome=outcome,
            repeated=repeated,
            duration_ms=duration_ms,
        )
        return outcome

    def _run_slot(self, question: str, repeated: bool) -> None:
        try:
            self.send_one(question, repeated)
        finally:
            self._slots.release()

    def run(self) -> Counter[str]:
        """Send at the configured rate until the duration ends or ``stop_event`` is set."""
        settings = self.settings
        start = self._clock()
        end = start + settings.duration_seconds if settings.duration_seconds > 0 else None
        next_progress = start + settings.progress_interval_seconds
        next_arrival = start
        logger.info(
            "loadgen_started",
            target_url=self._base,
            rate_per_second=settings.rate_per_second,
            repeat_fraction=settings.repeat_fraction,
            duration_seconds=settings.duration_seconds,
        )
        with ThreadPoolExecutor(settings.max_in_flight, thread_name_prefix="loadgen") as pool:
            while not self.stop_event.is_set():
                next_arrival += self._rng.expovariate(settings.rate_per_second)
                if end is not None and next_arrival >= end:
                    break
                delay = next_arrival - self._clock()
                if delay > 0 and self.stop_event.wait(delay):
                    break
                question, repeated = self._questions.next()
                if self._slots.acquire(blocking=False):
                    pool.submit(self._run_slot, question, repeated)
                else:
                    self._count("dropped")
                now = self._clock()
                if now >= next_progress:
                    next_progress = now + settings.progress_interval_seconds
                    logger.info("loadgen_progress", **self.snapshot())
        logger.info("loadgen_stopped", **self.snapshot())
        return self.outcomes

    def snapshot(self) -> dict[str, int]:
        """Outcome counts so far."""
        with self._lock:
            return dict(self.outcomes)
