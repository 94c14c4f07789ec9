"""prometheus/prometheus.yml: the app's scrape job, rule files and the Alertmanager.

The app's targets come from DNS (`dns_sd_configs`, type A): compose answers the service
name with one address per replica, so `docker compose up -d --scale app=3` gives three
targets, each with its own `instance` label (address:port), and no config change.
"""

from __future__ import annotations

from lab.generate import haproxy
from lab.generate._output import GeneratedFile, to_yaml
from lab.kit.owned_files import SCRAPE_FILES
from lab.spec.model import Spec, duration_seconds

CONFIG_PATH = "prometheus/prometheus.yml"


# Prometheus's default; a job scraped more often gets its interval as its timeout.
SCRAPE_TIMEOUT = "10s"


def scrape_timeout(interval: str) -> str:
    """The timeout of a job scraped every `interval` (a timeout may not exceed it)."""
    return min(interval, SCRAPE_TIMEOUT, key=duration_seconds)


def render(spec: Spec) -> list[GeneratedFile]:
    scraping = spec.scraping
    config = {
        "global": {
            "scrape_interval": scraping.scrape_interval,
            "scrape_timeout": SCRAPE_TIMEOUT,
            "evaluation_interval": scraping.evaluation_interval,
            "external_labels": {"lab": "rag-observability-lab"},
        },
        "rule_files": [scraping.rule_files],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [scraping.alertmanager_target]}]}]
        },
        "scrape_configs": [
            {
                "job_name": scraping.app_job,
                "scrape_interval": scraping.app_scrape_interval,
                "scrape_timeout": scrape_timeout(scraping.app_scrape_interval),
                "metrics_path": "/metrics",
                "dns_sd_configs": [
                    {
                        "names": [scraping.app_dns_name],
                        "type": "A",
                        "port": scraping.app_port,
                        "refresh_interval": scraping.app_dns_refresh_interval,
                    }
                ],
            },
            {
                # The balancer in front of the replicas (HAProxy's built-in exporter): the
                # requests and errors per replica as it sees them.
                "job_name": spec.balancer.job,
                "metrics_path": haproxy.METRICS_PATH,
                "static_configs": [{"targets": [spec.balancer.metrics_target]}],
            },
            {"job_name": "prometheus", "static_configs": [{"targets": ["localhost:9090"]}]},
            {
                "job_name": "alertmanager",
                "static_configs": [{"targets": [scraping.alertmanager_target]}],
            },
        ],
        # Lab-owned and empty unless a `lab scenario` deploys a scrape config there.
        "scrape_config_files": [SCRAPE_FILES],
    }
    comment = (
        "Exemplars need --enable-feature=exemplar-storage (set in docker-compose.yml).\n"
        f"{SCRAPE_FILES}: scrape configs a `lab scenario` adds (lab/kit/owned_files.py)."
    )
    return [GeneratedFile(CONFIG_PATH, to_yaml(config, comment=comment))]
