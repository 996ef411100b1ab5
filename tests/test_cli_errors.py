"""How the command ends: usage errors for numbers out of range, one line per failure (named
by kind when it is not ours), 130 for an interrupt however deep a task group wrapped it, and
a system exit passed on."""

from __future__ import annotations

import argparse

import pytest
from realtime_sansio.transports.cli import _run, describe_error, main


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["serve-fake", "--port", "70000"], "a port is 0..65535 (0: any free port), got 70000"),
        (["web", "--port", "-1"], "a port is 0..65535 (0: any free port), got -1"),
        (["demo", "--timeout", "0"], "must be > 0, got 0"),
        (["web", "--pace", "nan"], "must be > 0, got nan"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert says in capsys.readouterr().err


def run(error: BaseException, *, debug: bool = False) -> int:
    def handler(args: argparse.Namespace) -> int:
        raise error

    return _run(handler, argparse.Namespace(debug=debug))


def test_an_interrupt_ends_with_130_however_it_is_wrapped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(KeyboardInterrupt()) == 130
    nested = BaseExceptionGroup("outer", [BaseExceptionGroup("inner", [KeyboardInterrupt()])])
    assert run(nested) == 130
    assert capsys.readouterr().err == "realtime-sansio: interrupted\n" * 2


def test_a_system_exit_is_passed_on() -> None:
    with pytest.raises(SystemExit):
        run(SystemExit(3))


def test_failures_are_one_line_named_by_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(RuntimeError("the  model\nwent away")) == 1
    assert capsys.readouterr().err == "realtime-sansio: error: RuntimeError: the model went away\n"
    assert run(RuntimeError("boom"), debug=True) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and err.endswith("RuntimeError: boom\n")


def test_os_errors_say_what_and_where() -> None:
    assert describe_error(PermissionError(13, "Permission denied", "/etc/x")) == (
        "Permission denied: /etc/x"
    )
    assert describe_error(ConnectionResetError(104, "Connection reset by peer")) == (
        "Connection reset by peer"
    )
    assert describe_error(ValueError("")) == "ValueError"
