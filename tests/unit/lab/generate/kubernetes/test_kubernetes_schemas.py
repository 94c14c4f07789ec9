"""Every rendered Kubernetes object against the schema the API server would check it with.

Core objects: the Kubernetes OpenAPI schemas that `kubernetes-validate` ships, strict (no
unknown field), at the oldest Kubernetes kube-prometheus-stack supports and the newest
the package has. Operator objects: the vendored prometheus-operator CRDs (see crds/README.md),
made strict the same way.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from lab.generate.kubernetes import _common
from tests.unit.lab.generate.kubernetes.conftest import KubeLoader, Renders, Resource

CRDS = Path(__file__).parent / "crds"
# The versions the renders name as read against are the vendored CRDs' (checked below).
OPERATOR_VERSION = _common.OPERATOR_VERSION.removeprefix("v")
# kube-prometheus-stack's `kubeVersion: ">=1.25.0-0"`, and the newest schemas shipped.
KUBERNETES_VERSIONS = ("1.25.0", "1.37.0")
OPERATOR_GROUP = "monitoring.coreos.com"


@functools.cache
def _load(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=KubeLoader)


def _strict(schema: Any) -> Any:
    """A CRD schema that refuses fields it does not declare (unless it keeps unknown ones)."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if "(?i)" in out.get("pattern", ""):
        # Go's regexps take `(?i)` mid-pattern, Python's only at the start; the few such
        # patterns (time intervals, a validation mode) become case-insensitive as a whole.
        out["pattern"] = "(?i)" + out["pattern"].replace("(?i)", "")
    if "properties" in out:
        out["properties"] = {k: _strict(v) for k, v in out["properties"].items()}
        if "additionalProperties" not in out and not out.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            out["additionalProperties"] = False
    for key in ("items", "additionalProperties", "not"):
        if isinstance(out.get(key), dict):
            out[key] = _strict(out[key])
    for key in ("anyOf", "allOf", "oneOf"):
        if key in out:
            out[key] = [_strict(s) for s in out[key]]
    return out


@functools.cache
def _crds() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict schema of that served version."""
    schemas = {}
    for path in sorted(CRDS.glob("crd-*.yaml")):
        crd = _load(path)
        for version in crd["spec"]["versions"]:
            if version["served"]:
                api_version = f"{crd['spec']['group']}/{version['name']}"
                schema = _strict(version["schema"]["openAPIV3Schema"])
                schemas[(api_version, crd["spec"]["names"]["kind"])] = schema
    return schemas


def validate_custom(resource: Resource) -> None:
    """Raise jsonschema.ValidationError unless the CRD (and ObjectMeta) accept it."""
    key = (resource["apiVersion"], resource["kind"])
    assert key in _crds(), f"no vendored CRD serves {key}"
    jsonschema.validate(resource, _crds()[key])
    # The CRD schemas say only `metadata: {type: object}`; the API checks it as ObjectMeta.
    carrier = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": resource["metadata"]}
    kubernetes_validate.validate(carrier, KUBERNETES_VERSIONS[-1], strict=True)


def _is_custom(resource: Resource) -> bool:
    return bool(resource["apiVersion"].startswith(f"{OPERATOR_GROUP}/"))


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_core_objects_match_the_kubernetes_api_schemas(k8s: Renders, version: str) -> None:
    """Namespace, Deployments, Services and the ConfigMap pass the API's schemas, strictly."""
    core = {path: doc for path, doc in k8s.objects.items() if not _is_custom(doc)}
    assert {doc["kind"] for doc in core.values()} == {
        "Namespace",
        "Deployment",
        "Service",
        "ConfigMap",
    }
    for path, doc in core.items():
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{path} (Kubernetes {version}): {error.message} at {list(error.path)}")


def test_operator_objects_match_the_vendored_crds(k8s: Renders) -> None:
    """PrometheusRule, ServiceMonitor and AlertmanagerConfig pass their CRD schemas, strictly."""
    custom = {path: doc for path, doc in k8s.objects.items() if _is_custom(doc)}
    assert sorted(doc["kind"] for doc in custom.values()) == [
        "AlertmanagerConfig",
        "PrometheusRule",
        "ServiceMonitor",
    ]
    for path, doc in custom.items():
        try:
            validate_custom(doc)
        except jsonschema.ValidationError as error:
            pytest.fail(f"{path}: {error.message} at {list(error.absolute_path)}")


@pytest.mark.parametrize(
    ("kind", "path", "value", "complaint"),
    [
        (
            "ServiceMonitor",
            ("spec", "endpoints", 0, "relabelings", 0, "action"),
            "rename",
            "rename",
        ),
        ("ServiceMonitor", ("spec", "endpoints", 0, "scrapeInterval"), "5s", "scrapeInterval"),
        ("PrometheusRule", ("spec", "groups", 0, "rules", 0, "recrod"), "x:y:z", "recrod"),
        ("AlertmanagerConfig", ("spec", "route", "matchers", 0, "matchType"), "==", "=="),
        ("AlertmanagerConfig", ("metadata", "labels", "release"), 1, "1"),
    ],
)
def test_the_crd_check_refuses_a_broken_copy(
    k8s: Renders, kind: str, path: tuple[Any, ...], value: Any, complaint: str
) -> None:
    """A bad enum value, a misspelt field or a non-string label fails validation, by name."""
    broken = copy.deepcopy(k8s.one(kind))
    target = broken
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises((jsonschema.ValidationError, kubernetes_validate.ValidationError)) as error:
        validate_custom(broken)
    assert complaint in str(error.value.message)


def test_the_core_check_refuses_a_broken_copy(k8s: Renders) -> None:
    """An unknown field in a container fails the Kubernetes schema."""
    broken = copy.deepcopy(k8s.one("Deployment", "app"))
    broken["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFileSystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError) as error:
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)
    assert "readOnlyRootFileSystem" in error.value.message


def test_vendored_crds_are_the_ones_recorded_in_their_readme() -> None:
    """Each CRD file is byte for byte the recorded one, of the operator and chart versions the
    renders say they were read against."""
    recorded = dict(
        (name, digest)
        for digest, name in re.findall(
            r"^([0-9a-f]{64})  (\S+)$", (CRDS / "README.md").read_text(), re.M
        )
    )
    files = sorted(CRDS.glob("crd-*.yaml"))
    assert sorted(recorded) == [f.name for f in files]
    for path in files:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded[path.name], path.name
        annotations = _load(path)["metadata"]["annotations"]
        assert annotations["operator.prometheus.io/version"] == OPERATOR_VERSION
    readme = (CRDS / "README.md").read_text()
    assert f"v{OPERATOR_VERSION}" in readme
    assert f"kube-prometheus-stack {_common.CHART_VERSION}" in readme
