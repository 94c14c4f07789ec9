"""Which stack a check proves, and the file a fix should name: the lab's own files on the
lab's own stack, the learner's target file on theirs."""

from __future__ import annotations

from lab.kit.context import LabContext
from lab.target.model import DEFAULT_FILE, OWN_STACK, Target


def target_of(ctx: LabContext) -> Target:
    """The stack the context points at (the lab's own when it says nothing)."""
    target = getattr(ctx, "target", OWN_STACK)
    return target if isinstance(target, Target) else OWN_STACK


def target_file(target: Target) -> str:
    """The learner's target file, as a fix names it."""
    return str(target.source) if target.source else DEFAULT_FILE
