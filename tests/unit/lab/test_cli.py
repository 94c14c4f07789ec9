"""The `lab` command line, run in-process: parsing, dispatch and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.cli import run
from lab.kit.exit_codes import ExitCode


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """No subcommand or an unknown one is a usage error, exit code 2."""
    assert run([]) is ExitCode.USAGE
    assert run(["frobnicate"]) is ExitCode.USAGE
    assert "usage: lab" in capsys.readouterr().err


def test_help_exits_ok(capsys: pytest.CaptureFixture[str]) -> None:
    """`lab generate --help` documents --check and --root and exits 0."""
    assert run(["generate", "--help"]) is ExitCode.OK
    text = capsys.readouterr().out
    assert "--check" in text
    assert "--root" in text


def test_main_exits_with_the_run_code(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`python -m lab` passes argv to cli.run and exits with its code."""
    from lab.__main__ import main

    monkeypatch.setattr("sys.argv", ["lab", "generate", "--check", "--root", str(tmp_path)])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == ExitCode.FAILED


def test_every_subcommand_module_is_dispatched(capsys: pytest.CaptureFixture[str]) -> None:
    """`lab --help` lists each feature's subcommand, in the order of SUBCOMMANDS."""
    assert run(["--help"]) is ExitCode.OK
    text = capsys.readouterr().out
    names = ["generate", "check", "wait", "baseline", "compare", "drill", "experiment"]
    positions = [text.index(f"\n    {name}") for name in names]
    assert positions == sorted(positions)
