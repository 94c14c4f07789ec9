"""Which stack a check proves, and the file a fix should name: the lab's own files on the
lab's own stack, the learner's target file on theirs."""

from __future__ import annotations

from lab.kit.context import LabContext
from lab.kit.target import DEFAULT_FILE, Target


def target_of(ctx: LabContext) -> Target:
    """The stack the context points at (the lab's own when nothing describes another)."""
    return ctx.target


def target_file(target: Target) -> str:
    """The learner's target file, as a fix names it."""
    return str(target.source) if target.source else DEFAULT_FILE
