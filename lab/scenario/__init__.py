"""`lab scenario`: graded "break it, find it" exercises on the running lab.

A scenario breaks the lab the way production breaks (through the app's admin API and
lab-owned variants of the generated configs, never a file the learner edits), shows only
the symptom a user would report, gives hints one at a time, and verifies against the
live services that the learner found the cause (and, where the fix is theirs to make,
fixed it), then scores the attempt and shows the runbook (`docs/scenarios/`).

- `model`: what a scenario is, and the menu of causes `verify --cause` takes;
- `catalog`: the scenarios, as data: symptom, hints, cause, fault, how it is detected;
- `inject`: how a fault is put in place, and how `reset` takes every kind away;
- `live`: the running lab as a scenario reaches it (clients, checks, lab-owned files);
- `state`, `score`: the running scenario (in the state directory) and its score;
- `session`: list, start, hint, status, verify, reset; `command`: their parser.

Where the lab-owned files live is the kit's (`lab.kit.owned_files`): the generators
write the same paths into prometheus.yml. The app's faults go through the kit's fault
session, as a drill's and the experiment's do (`lab.kit.fault_session`), persisted in
the faults file and kept after `start`.
"""
