"""The load generator: question mix, correlation ids, resilience to errors, bounded runs."""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import Any

import requests

from sample_rag_app.services.loadgen.generator import (
    LoadGenerator,
    new_correlation_id,
    resolve_addresses,
)
from sample_rag_app.services.loadgen.questions import POPULAR_QUESTIONS, QuestionSource
from sample_rag_app.services.loadgen.settings import LoadgenSettings


def test_defaults_match_the_compose_setup() -> None:
    """Defaults: target http://app:8000, 2 requests/s, 40 % repeats, run forever."""
    settings = LoadgenSettings()
    assert settings.target_url == "http://app:8000"
    assert settings.rate_per_second == 2.0
    assert settings.repeat_fraction == 0.4
    assert settings.duration_seconds == 0


def test_repeat_fraction_sets_the_share_of_popular_questions() -> None:
    """About repeat_fraction of the questions are popular ones; the others are mostly new."""
    source = QuestionSource(random.Random(1), 0.4)
    drawn = [source.next() for _ in range(5000)]
    repeated = [q for q, is_repeat in drawn if is_repeat]
    new = [q for q, is_repeat in drawn if not is_repeat]
    assert abs(len(repeated) / 5000 - 0.4) < 0.03
    assert set(repeated) <= set(POPULAR_QUESTIONS)
    assert len(set(new)) / len(new) > 0.9


def test_correlation_ids_are_prefixed_and_valid_for_the_app() -> None:
    """Correlation ids start with loadgen- and satisfy the app's format."""
    cid = new_correlation_id()
    assert cid.startswith("loadgen-")
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", cid)


class ScriptedSession(requests.Session):
    """Answers posts from a script of status codes or exceptions, cycling."""

    def __init__(self, script: list[int | Exception]) -> None:
        super().__init__()
        self.script = script
        self.posts: list[dict[str, Any]] = []

    def post(self, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        outcome_index = len(self.posts)
        self.posts.append({"url": url, **kwargs})
        outcome = self.script[outcome_index % len(self.script)]
        if isinstance(outcome, Exception):
            raise outcome
        response = requests.Response()
        response.status_code = outcome
        return response

    def get(self, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response = requests.Response()
        response.status_code = 200
        return response


def test_send_one_never_raises_and_reports_the_outcome() -> None:
    """Errors, timeouts and connection failures become outcomes, not exceptions."""
    session = ScriptedSession(
        [200, 502, requests.Timeout(), requests.ConnectionError(), RuntimeError("boom")]
    )
    generator = LoadGenerator(
        LoadgenSettings(target_url="http://t"), session_factory=lambda: session
    )
    outcomes = [generator.send_one("q", False) for _ in range(5)]
    assert outcomes == [
        "ok", "http_502", "timeout", "connection_error:ConnectionError", "unexpected:RuntimeError",
    ]  # fmt: skip
    sent = session.posts[0]
    assert sent["url"] == "http://t/query"
    assert sent["json"] == {"question": "q", "top_k": 4}
    assert sent["headers"]["X-Correlation-ID"].startswith("loadgen-")


def test_bounded_run_sends_at_about_the_rate() -> None:
    """A 0.3-second run at 500/s sends roughly 150 queries and stops by itself."""
    session = ScriptedSession([200])
    settings = LoadgenSettings(
        target_url="http://t", rate_per_second=500, duration_seconds=0.3, seed=3, max_in_flight=4
    )
    outcomes: Counter[str] = LoadGenerator(settings, session_factory=lambda: session).run()
    assert 100 <= sum(outcomes.values()) <= 200
    assert outcomes["ok"] == len(session.posts)


def test_wait_until_ready_polls_readyz() -> None:
    """wait_until_ready returns True once /readyz answers 200."""
    generator = LoadGenerator(
        LoadgenSettings(target_url="http://t"), session_factory=lambda: ScriptedSession([200])
    )
    assert generator.wait_until_ready()


def test_wait_until_ready_gives_up_after_the_timeout() -> None:
    """With an unreachable target and a zero timeout, wait_until_ready returns False."""

    class Down(ScriptedSession):
        def get(self, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            raise requests.ConnectionError

    generator = LoadGenerator(
        LoadgenSettings(target_url="http://t", ready_timeout_seconds=0),
        session_factory=lambda: Down([200]),
    )
    assert not generator.wait_until_ready()


def test_requests_take_the_replicas_in_turn_and_follow_the_name() -> None:
    """Each request goes to the next address the name resolves to now, with the name as Host;
    a replica that leaves the name gets no more requests."""
    replicas = [["172.18.0.4", "172.18.0.5", "172.18.0.6"]]
    session = ScriptedSession([200])
    generator = LoadGenerator(
        LoadgenSettings(target_url="http://app:8000"),
        session_factory=lambda: session,
        resolve=lambda host, port: replicas[0] if (host, port) == ("app", 8000) else [],
    )
    for _ in range(6):
        generator.send_one("q", False)
    replicas[0] = ["172.18.0.4", "172.18.0.6"]
    for _ in range(4):
        generator.send_one("q", False)
    hosts = [str(post["url"]).split("/")[2] for post in session.posts]
    assert Counter(hosts[:6]) == {"172.18.0.4:8000": 2, "172.18.0.5:8000": 2, "172.18.0.6:8000": 2}
    assert Counter(hosts[6:]) == {"172.18.0.4:8000": 2, "172.18.0.6:8000": 2}
    assert {post["headers"]["Host"] for post in session.posts} == {"app:8000"}


def test_an_unresolvable_or_single_address_target_is_used_as_given() -> None:
    """A name that does not resolve, or that is its own address, is requested unchanged."""
    for addresses in ([], ["127.0.0.1"]):
        session = ScriptedSession([200])
        generator = LoadGenerator(
            LoadgenSettings(target_url="http://127.0.0.1:8000"),
            session_factory=lambda session=session: session,
            resolve=lambda host, port, found=addresses: found,
        )
        generator.send_one("q", False)
        assert session.posts[0]["url"] == "http://127.0.0.1:8000/query"
        assert "Host" not in session.posts[0]["headers"]


def test_resolve_addresses_lists_each_address_once() -> None:
    """localhost resolves to its loopback address(es), sorted, without duplicates."""
    found = resolve_addresses("localhost", 8000)
    assert found == sorted(set(found))
    assert found
    assert all(a.startswith("127.") or a == "::1" for a in found)
    assert resolve_addresses("no-such-host.invalid", 8000) == []
