"""Where a scenario's lab-owned files live, on the host and in the containers.

`lab scenario` never edits a file the learner owns. It writes into one lab-owned
directory, the state directory (`LAB_STATE_DIR`, default `.lab/` at the repository root,
git-ignored), which docker-compose.yml mounts read-only at `MOUNT` into the app,
Prometheus and Alertmanager. What each service does with it (a test ties these names to
docker-compose.yml and the generated prometheus.yml):

- the app applies `FAULTS_FILE` over its default faults at start-up (`RAG_FAULTS_FILE`),
  so a scenario's faults survive a restart of the app;
- Prometheus includes every `SCRAPE_FILES` file as extra scrape configs
  (`scrape_config_files`); a scenario adds or removes one, then reloads Prometheus;
- Alertmanager starts on `ALERTMANAGER_FILE` when it exists, else on the learner's
  alertmanager/alertmanager.yml; a scenario writes or removes it, then restarts it.

`STATE_FILE` is the running scenario itself (when it started, the hints shown), so a
scenario survives `docker compose restart` and `down`/`up` alike.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

DEFAULT_DIR: Final = ".lab"
MOUNT: Final = "/etc/lab"
STATE_FILE: Final = "scenario.json"
FAULTS_FILE: Final = "faults.json"
ALERTMANAGER_FILE: Final = "alertmanager.yml"
SCRAPE_PREFIX: Final = "prometheus-scrape-"
SCRAPE_FILES: Final = f"{MOUNT}/{SCRAPE_PREFIX}*.yml"


def write(path: Path, content: str) -> None:
    """Write a lab-owned file atomically (a service never reads half of it), readable by
    the containers' `nobody`, whatever the learner's umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(content, encoding="utf-8", newline="\n")
    os.chmod(partial, 0o644)
    os.replace(partial, path)


def remove(path: Path) -> bool:
    """Remove a lab-owned file; True when there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
