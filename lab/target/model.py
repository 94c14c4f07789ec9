"""The target model, as `lab.target` presents it: defined in `lab.kit.target`, because
`LabContext` (in the kit) carries it and the kit imports no feature package."""

from lab.kit.target import (
    DEFAULT_FILE,
    OWN_STACK,
    QUESTION_PLACEHOLDER,
    AlertingTarget,
    GrafanaTarget,
    LogKind,
    LogsTarget,
    QueryTarget,
    Target,
)

__all__ = [
    "DEFAULT_FILE",
    "OWN_STACK",
    "QUESTION_PLACEHOLDER",
    "AlertingTarget",
    "GrafanaTarget",
    "LogKind",
    "LogsTarget",
    "QueryTarget",
    "Target",
]
