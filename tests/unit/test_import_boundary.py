"""The import boundaries between the toolkit, the app and the services beside it, and
no two packages that import each other."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "lab"
RUNTIME_PACKAGE = ROOT / "sample_rag_app"
SERVICES = RUNTIME_PACKAGE / "services"
#: The one module of sample_rag_app that `lab` may import (its docstring says why).
HARNESS = "sample_rag_app.harness"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_lab_imports_sample_rag_app_only_through_its_harness() -> None:
    """The checks work against any app that speaks the metrics contract; the experiment's
    two needs of the sample app go through one public module."""
    offenders = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in LAB.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] == "sample_rag_app" and module != HARNESS
    }
    assert offenders == set()


def test_sample_rag_app_never_imports_the_toolkit() -> None:
    """The runtime image ships no `lab` code, so nothing in it may import `lab`."""
    offenders = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in RUNTIME_PACKAGE.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] == "lab"
    }
    assert offenders == set()


def test_each_service_imports_only_itself_and_the_runtime_kit() -> None:
    """A service is free of the app's internals: it shares only `sample_rag_app.runtime`."""
    offenders = set()
    for service in (p for p in SERVICES.iterdir() if (p / "__init__.py").is_file()):
        own = module_name(service / "__init__.py")
        for path in service.rglob("*.py"):
            for module in imported_modules(path):
                allowed = (own, "sample_rag_app.runtime")
                if module.split(".")[0] == "sample_rag_app" and not module.startswith(allowed):
                    offenders.add(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == set()


def test_the_runtime_kit_imports_nothing_of_the_app_or_the_services() -> None:
    """The kit sits below everything that uses it."""
    kit = RUNTIME_PACKAGE / "runtime"
    offenders = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in kit.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] == "sample_rag_app"
        and not module.startswith("sample_rag_app.runtime")
    }
    assert offenders == set()


def package_of(module: str) -> str:
    """The package a module belongs to, one level below its top-level package."""
    return ".".join(module.split(".")[:2])


def package_graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for top in (LAB, RUNTIME_PACKAGE):
        for path in top.rglob("*.py"):
            source = package_of(module_name(path))
            for module in imported_modules(path):
                target = package_of(module)
                if module.split(".")[0] in ("lab", "sample_rag_app") and target != source:
                    edges[source].add(target)
    return edges


def test_no_two_packages_import_each_other() -> None:
    """At package level the imports form a hierarchy: a feature uses the kit, never the
    reverse, and no two features lean on each other."""
    edges = package_graph()
    pairs = {
        tuple(sorted((a, b)))
        for a, targets in edges.items()
        for b in targets
        if a in edges.get(b, set())
    }
    assert pairs == set()
