"""How big the lab's Python images are, and what in them is big.

Builds `sample_rag_app/Dockerfile` on the base named by PYTHON_IMAGE: each target of the
working tree (`runtime`, which runs the app, loadgen and alert sink, and `lab`), or with
`--ref REF` the Dockerfile's default target as committed at REF (the single image that
ran everything before the split), from `git archive REF`. Reports each image's size, what
it adds to the base, and its largest installed packages; the images built from a ref are
removed afterwards.

    python bench/image_sizes.py [--label after]
    python bench/image_sizes.py --ref e37eaf6 --label before

`--label` names the section of bench/results/image_sizes.md the run replaces.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine_info
from _stack import ROOT, write_section

TITLE = "# Image sizes: the runtime image and the lab tools image"
DOCKERFILE = "sample_rag_app/Dockerfile"
BUDGET_MB = 200
SITE_PACKAGES = "/opt/venv/lib/python3*/site-packages"


def size_mb(image: str) -> float:
    """The image's size as `docker images` shows it (MB: 10^6 bytes)."""
    out = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", image],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return int(out) / 1e6


def largest_packages(image: str, count: int = 8) -> list[tuple[str, float]]:
    """The `count` largest entries of the image's site-packages, in MB."""
    out = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "sh", image, "-c",
         f"du -sk {SITE_PACKAGES}/* | sort -rn | head -{count}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = []
    for line in out.splitlines():
        kilobytes, path = line.split(maxsplit=1)
        rows.append((path.rsplit("/", 1)[-1], int(kilobytes) * 1024 / 1e6))
    return rows


def build(tag: str, base: str, target: str | None, ref: str | None) -> None:
    command = ["docker", "build", "-q", "-f", DOCKERFILE, "--build-arg", f"PYTHON_IMAGE={base}"]
    command += ["--target", target] if target else []
    if ref is None:
        subprocess.run([*command, "-t", tag, "."], cwd=ROOT, check=True, capture_output=True)
        return
    archive = subprocess.run(
        ["git", "archive", ref], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run([*command, "-t", tag, "-"], input=archive, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", help="measure the Dockerfile's default target at this commit")
    parser.add_argument("--label", default="after", help="results section: before or after")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/image_sizes.md")
    args = parser.parse_args()

    base = os.environ.get("PYTHON_IMAGE", "python:3.13.9-slim-trixie")
    targets = [(None, "the one image (app, loadgen, alert sink and lab)")] if args.ref else [
        ("runtime", "runtime: app, loadgen, alert sink"),
        ("lab", "lab: the `lab` toolkit (`docker compose run lab`)"),
    ]  # fmt: skip
    base_mb = size_mb(base)
    rows, details = [], []
    for target, what in targets:
        tag = f"rag-lab-bench/{target or 'ref'}:{args.ref or 'worktree'}"
        build(tag, base, target, args.ref)
        try:
            mb = size_mb(tag)
            rows.append(f"| {what} | {mb:.1f} | {mb - base_mb:+.1f} |")
            packages = ", ".join(f"{name} {size:.1f}" for name, size in largest_packages(tag))
            details.append(f"- {what}: {packages}")
        finally:
            if args.ref:
                subprocess.run(["docker", "image", "rm", tag], capture_output=True)
    command = "python bench/image_sizes.py " + " ".join(sys.argv[1:])
    body = f"""## {args.label}

Command (repository root, dev venv, base image present):

```
{command.strip()}
```

Dockerfile of {args.ref or "the working tree"}. Base: `PYTHON_IMAGE={base}`, {base_mb:.1f} MB.
Sizes as `docker images` shows them (MB = 10^6 bytes). Upstream `python:3.13.9-slim-trixie`
could not be pulled here (no registry access), so the figures are on the stand-in built by
`.ci/offline-images`; what an image adds to its base does not depend on which base it is.

| image | MB | added to the base |
|---|---:|---:|
{chr(10).join(rows)}

Largest installed packages (MB):

{chr(10).join(details)}

Budget for the image that runs the app, loadgen and alert sink: {BUDGET_MB} MB.

{machine_info()}
"""
    write_section(args.out, TITLE, args.label, body)
    print(body)


if __name__ == "__main__":
    main()
