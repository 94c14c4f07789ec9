"""`lab check` and `lab wait`: the course's readiness checks against the live services.

- `scrape`, `dashboards`, `alerts`, `logs`, `baseline`: checks 1-5, one module each, all
  returning `result.CheckResult` through what `evidence` gathers;
- `runner`: the checks in the course's order, once or until they pass (`--wait`);
- `logsource`: where check 4 reads the app's log lines;
- `report`: the results as text or JSON;
- `command`, `wait`: the two subcommands.
"""
