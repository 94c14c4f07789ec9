"""`lab target`: the description of the stack `lab` proves, the lab's own or a learner's.

With no description the target is the lab's own stack (zero configuration, as the
compose file publishes it). A learner's M2.3 stack is described once in a file beside
their project (`lab-target.yaml`), which `lab target discover` writes a first version of
by asking the live services; `LAB_*` variables and flags override it per run.

- `model`: what a target is, and where its values come from;
- `discover`, `command`: finding a learner's stack from its live services, and the
  subcommand.
"""
