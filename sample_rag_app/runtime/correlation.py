"""The correlation header every request of the stack carries, whoever sends or serves it.

The app reads and echoes it, the loadgen sends it; the toolkit's copy in `lab.spec.rag`
is tied to this one by `tests/unit/lab/spec/test_app_contract.py`.
"""

from __future__ import annotations

from typing import Final

CORRELATION_HEADER: Final = "X-Correlation-ID"
