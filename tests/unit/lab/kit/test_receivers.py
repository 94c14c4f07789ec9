"""Receiver names with and without prometheus-operator's `<namespace>/<config>/` prefix."""

from __future__ import annotations

import pytest

from lab.kit import receivers

OPERATOR_MADE = "rag-lab/rag-observability-lab/alert-sink"


def test_an_operator_made_name_is_its_local_name() -> None:
    """`rag-lab/rag-observability-lab/alert-sink` is `alert-sink`, and still its full name."""
    assert receivers.local_name(OPERATOR_MADE) == "alert-sink"
    assert receivers.is_receiver(OPERATOR_MADE, "alert-sink")
    assert receivers.is_receiver(OPERATOR_MADE, OPERATOR_MADE)
    assert receivers.names(OPERATOR_MADE) == {OPERATOR_MADE, "alert-sink"}


@pytest.mark.parametrize("name", ["alert-sink", "team/alert-sink", "a//b", "/x/y"])
def test_a_name_the_operator_did_not_make_is_left_alone(name: str) -> None:
    """Compose's names, and names with fewer or empty parts, are their own local name."""
    assert receivers.local_name(name) == name


def test_a_local_name_with_a_slash_survives_the_prefix() -> None:
    """The operator prefixes whatever the receiver is called, `/` included."""
    assert receivers.local_name("ns/config/team/pager") == "team/pager"


def test_another_receiver_is_not_taken_for_the_named_one() -> None:
    """`rag-lab/rag-observability-lab/warning` is not `alert-sink`, nor the config's name."""
    assert not receivers.is_receiver("rag-lab/rag-observability-lab/warning", "alert-sink")
    assert not receivers.is_receiver(OPERATOR_MADE, "rag-observability-lab")
