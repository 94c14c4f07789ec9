"""`python -m lab` and the `lab` console script."""

from __future__ import annotations

import sys

from lab import cli


def main() -> None:
    sys.exit(cli.run(sys.argv[1:]))


if __name__ == "__main__":
    main()
