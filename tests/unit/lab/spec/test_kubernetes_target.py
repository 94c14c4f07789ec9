"""The spec's Kubernetes target: values that cannot work are refused with the reason."""

from __future__ import annotations

import pytest

from lab.spec.model import KubernetesTarget


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"namespace": "RAG_Lab"}, "kubernetes namespace 'RAG_Lab'.*DNS label"),
        ({"namespace": "-lab"}, "kubernetes namespace '-lab'"),
        ({"namespace": "x" * 64}, "at most 63"),
        ({"release": "my release"}, "kubernetes release 'my release'"),
        ({"app_replicas": 0}, "app_replicas 0: at least 1"),
    ],
)
def test_a_target_that_cannot_work_is_refused_saying_why(
    fields: dict[str, object], reason: str
) -> None:
    """A namespace or release that is no DNS label, or no replica at all, is refused."""
    given = {"namespace": "rag-lab", "release": "kube-prometheus-stack", "app_replicas": 2}
    with pytest.raises(ValueError, match=reason):
        KubernetesTarget(**(given | fields))  # type: ignore[arg-type]


def test_a_valid_target_is_accepted() -> None:
    """The lab's own values pass."""
    target = KubernetesTarget(namespace="rag-lab", release="monitoring", app_replicas=1)
    assert target.app_replicas == 1
