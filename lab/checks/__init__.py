"""The course's readiness checks, one module each, all returning `CheckResult`."""
