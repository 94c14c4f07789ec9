"""Metrics and logs: the lab's contract with Prometheus, Grafana and whoever reads the logs."""
