"""Nothing in `lab` assumes POSIX where Windows differs: read from the source, so the test
fails on Linux CI too (the workflow's `platforms` job runs `lab` itself on Windows and macOS).

- signals Windows lacks (SIGKILL, SIGHUP, SIGUSR1, ...), fork, uids, and the POSIX-only
  modules (fcntl for file locking, termios, pwd, grp, resource);
- text files opened without an encoding (Windows' default is the ANSI code page, not UTF-8)
  or written without `newline` (Windows' text mode writes CRLF into files containers read);
- hard-coded /tmp paths (tempfile knows each platform's), ANSI colour escapes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.image_pins import ROOT

POSIX_ONLY_MODULES = {"fcntl", "termios", "pwd", "grp", "resource", "pty", "tty"}
POSIX_ONLY_ATTRIBUTES = {
    ("signal", name)
    for name in ("SIGKILL", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGQUIT", "SIGCHLD")
} | {("os", name) for name in ("fork", "getuid", "geteuid", "getgid", "killpg", "setsid")}
TEXT_CALLS = {"read_text", "write_text"}
SOURCES = sorted((ROOT / "lab").rglob("*.py"))


def _problems(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(root).as_posix()}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
            found += [
                f"{where} imports {n}" for n in names if n.split(".")[0] in POSIX_ONLY_MODULES
            ]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in POSIX_ONLY_ATTRIBUTES:
                found.append(f"{where} uses {node.value.id}.{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            keywords = {k.arg for k in node.keywords}
            if node.func.attr in TEXT_CALLS and "encoding" not in keywords:
                found.append(f"{where} {node.func.attr}() without encoding=")
            if node.func.attr == "write_text" and "newline" not in keywords:
                found.append(f"{where} write_text() without newline= (CRLF on Windows)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("/tmp/") and not path.match("lab/generate/kubernetes/*"):
                found.append(f"{where} hard-codes {node.value!r}")
            if "\x1b[" in node.value:
                found.append(f"{where} writes an ANSI escape")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_lab_source_has_no_posix_only_assumption(path: Path) -> None:
    """Each module of `lab` runs the same on Windows, macOS and Linux."""
    assert _problems(path) == []


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """A module with each kind of problem is caught (the scan itself can fail)."""
    bad = tmp_path / "lab" / "bad.py"
    bad.parent.mkdir()
    bad.write_text(
        "import fcntl, signal, os\n"
        "signal.SIGKILL\nos.getuid()\n"
        "open_it = p.read_text()\np.write_text('x', encoding='utf-8')\n"
        "'/tmp/lab'\n'\\x1b[31m'\n",
        encoding="utf-8",
        newline="\n",
    )
    problems = _problems(bad, root=tmp_path)
    assert len(problems) == 7, problems
