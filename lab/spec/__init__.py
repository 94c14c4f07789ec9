"""The lab's single source of truth: one typed spec from which every config file is generated.

`SPEC` is the spec itself; the types it is written in live in `lab.spec.model`.
"""

from lab.spec.model import Alert, Severity, Spec, Threshold, Unit
from lab.spec.rag import SPEC

__all__ = ["SPEC", "Alert", "Severity", "Spec", "Threshold", "Unit"]
