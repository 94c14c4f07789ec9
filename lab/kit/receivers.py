"""Receiver names as Alertmanager reports them, on compose and under prometheus-operator.

The operator renames each receiver of an AlertmanagerConfig `<namespace>/<config name>/<name>`
(pkg/alertmanager/amcfg.go, `makeNamespacedString`), so the alert sink records
`rag-lab/rag-observability-lab/alert-sink` where compose's Alertmanager says `alert-sink`.
Whatever compares a receiver with a name the lab or a learner gives reads both as one.
"""

from __future__ import annotations

#: The parts of an operator-made name: a namespace and an object name (neither has a `/`)
#: ahead of the AlertmanagerConfig's own receiver name.
_OPERATOR_PARTS = 3


def local_name(receiver: str) -> str:
    """The receiver's name as its AlertmanagerConfig (or alertmanager.yml) gives it."""
    parts = receiver.split("/", _OPERATOR_PARTS - 1)
    return parts[-1] if len(parts) == _OPERATOR_PARTS and all(parts) else receiver


def names(receiver: str) -> set[str]:
    """What a person may call the receiver: its full name, and its local one."""
    return {receiver, local_name(receiver)}


def is_receiver(receiver: str, name: str) -> bool:
    """True when `receiver` (as Alertmanager reports it) is the one called `name`."""
    return name in names(receiver)
