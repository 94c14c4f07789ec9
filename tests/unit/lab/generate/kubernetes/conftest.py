"""The Kubernetes renders, parsed once per test: every generated file by path, objects by kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from lab.generate import kubernetes
from lab.spec import SPEC

Resource = dict[str, Any]


class KubeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML as Kubernetes reads it: a bare `=` (a matchType value) is a string, where PyYAML's
    YAML 1.1 sees its obscure `value` tag. libyaml's loader when there is one: the CRDs are
    big."""


KubeLoader.add_constructor("tag:yaml.org,2002:value", KubeLoader.construct_yaml_str)


@dataclass(frozen=True)
class Renders:
    """What `lab generate` writes for Kubernetes, parsed."""

    files: dict[str, Resource]

    @property
    def objects(self) -> dict[str, Resource]:
        """The Kubernetes objects (not the kustomizations, not the chart values), by path."""
        return {
            path: doc
            for path, doc in self.files.items()
            if {"apiVersion", "kind"} <= doc.keys() and doc["kind"] != "Kustomization"
        }

    def by_kind(self, kind: str) -> list[Resource]:
        return [doc for doc in self.objects.values() if doc["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> Resource:
        found = [d for d in self.by_kind(kind) if name is None or d["metadata"]["name"] == name]
        assert len(found) == 1, f"{len(found)} {kind} objects named {name}"
        return found[0]


@pytest.fixture
def k8s() -> Renders:
    return Renders({f.path: yaml.safe_load(f.content) for f in kubernetes.render(SPEC)})
