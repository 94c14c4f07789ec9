"""The `lab` toolkit: generates the lab's Prometheus, Alertmanager and Grafana files from one
spec, and checks that the running lab works."""
