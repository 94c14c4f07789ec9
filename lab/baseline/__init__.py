"""`lab baseline` and `lab compare`: the before/after record of the resilience work.

- `model`: the baseline, its queries and what it holds;
- `report`: JSON, Markdown and the chart, and two baselines compared;
- `command`, `compare`: the two subcommands.

Check 5 (a baseline is recorded) is a check like the others, in `lab.check.baseline`.
"""
