"""The config variants `lab scenario` deploys: a config change that breaks the lab as a
teammate's change would, rendered from the same spec as the healthy files.

They are committed (so `make lint`, promtool and amtool check them like the rest) and
`lab scenario start` writes the same rendering into the lab-owned state directory
(`lab.kit.owned_files`), never over the learner's files:

- `alertmanager/scenarios/dropping-route.yml`: the healthy Alertmanager config with one
  route added ahead of the others that sends every warning and critical alert, the
  check's test alert included, to a receiver with no integrations: they are accepted,
  grouped and silently dropped;
- `prometheus/scenarios/duplicate-scrape.yml`: a second scrape job for the app, as a
  forgotten canary job leaves behind: every series of the app comes twice, and every
  `sum()` over the app counts it twice.
"""

from __future__ import annotations

from typing import Any

import yaml

from lab.generate import alertmanager
from lab.generate._output import GeneratedFile, to_yaml
from lab.spec.model import Spec

#: The first line of every variant's comment.
MARKER = "lab scenario variant"
DROPPING_RECEIVER = "null"
DUPLICATE_JOB_SUFFIX = "-canary"
ALERTMANAGER_VARIANT_PATH = "alertmanager/scenarios/dropping-route.yml"
SCRAPE_VARIANT_PATH = "prometheus/scenarios/duplicate-scrape.yml"


def dropping_route_config(spec: Spec) -> dict[str, Any]:
    """The healthy config, plus a first route to a receiver that notifies nobody."""
    config = alertmanager.config(spec)
    drop = {
        "receiver": DROPPING_RECEIVER,
        "matchers": ['severity=~"warning|critical"'],
    }
    config["route"]["routes"] = [drop, *config["route"]["routes"]]
    config["receivers"] = [*config["receivers"], {"name": DROPPING_RECEIVER}]
    return config


def has_dropping_route(running_config: str) -> bool:
    """Whether a config Alertmanager runs (its status API's text, comments gone) is the
    variant: it alone has the receiver with no integration."""
    config = yaml.safe_load(running_config) or {}
    return any(r.get("name") == DROPPING_RECEIVER for r in config.get("receivers", []))


def duplicate_scrape_job(spec: Spec) -> str:
    return spec.scraping.app_job + DUPLICATE_JOB_SUFFIX


def duplicate_scrape_config(spec: Spec) -> dict[str, Any]:
    """A second job scraping the app, like the healthy one (a file of `scrape_config_files`)."""
    scraping = spec.scraping
    return {
        "scrape_configs": [
            {
                "job_name": duplicate_scrape_job(spec),
                "scrape_interval": scraping.app_scrape_interval,
                "scrape_timeout": scraping.app_scrape_interval,
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [scraping.app_target]}],
            }
        ]
    }


def render(spec: Spec) -> list[GeneratedFile]:
    return [
        GeneratedFile(
            ALERTMANAGER_VARIANT_PATH,
            to_yaml(
                dropping_route_config(spec),
                comment=f"{MARKER}: dropping-route (deployed by `lab scenario`, never by hand).",
            ),
        ),
        GeneratedFile(
            SCRAPE_VARIANT_PATH,
            to_yaml(
                duplicate_scrape_config(spec),
                comment=f"{MARKER}: duplicate-scrape (deployed by `lab scenario`, never by hand).",
            ),
        ),
    ]
