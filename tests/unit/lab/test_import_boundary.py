"""`lab` stays independent of the sample app, except where the experiment must share it."""

from __future__ import annotations

import ast
from pathlib import Path

LAB = Path(__file__).resolve().parents[3] / "lab"
# The experiment replays the loadgen's question model (lab/experiment/traffic.py says
# why) and can run the app in-process (a dev tool for the statistical test and bench).
# The alert sink is a service of the stack, built into the app's runtime image, not a
# check: it logs through the app's JSON logging setup and reads bodies with the app's
# ASGI replay, so the lab's services share one copy of each. The gateway (the relay in
# front of the app's replicas) is such a service too: it logs through the same setup.
ALLOWED = {
    "experiment/traffic.py",
    "experiment/in_process.py",
    "alert_sink/app.py",
    "alert_sink/__main__.py",
    "gateway/__main__.py",
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_experiment_and_the_stack_services_import_sample_rag_app() -> None:
    """Every other lab module works against any app that speaks the metrics contract."""
    importers = {
        path.relative_to(LAB).as_posix()
        for path in LAB.rglob("*.py")
        if any(m.split(".")[0] == "sample_rag_app" for m in imported_modules(path))
    }
    assert importers == ALLOWED
