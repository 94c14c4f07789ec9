"""`lab scenario`: graded "break it, find it" exercises on the running lab.

A scenario breaks the lab the way production breaks (through the app's admin API and
lab-owned variants of the generated configs, never a file the learner edits), shows only
the symptom a user would report, gives hints one at a time, and verifies against the
live services that the learner found the cause (and, where the fix is theirs to make,
fixed it), then scores the attempt and shows the runbook (`docs/scenarios/`).

- `catalog`: the scenarios, as data: symptom, hints, cause, fault, how it is detected;
- `faults`: how a fault is put in place and taken away (app, Prometheus, Alertmanager);
- `state`: the running scenario, kept in the lab-owned state directory (`layout`);
- `session`: start, hint, verify, reset: what the CLI (`lab.scenarios.cli`) calls.
"""
