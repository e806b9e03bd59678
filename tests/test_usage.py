"""cli/usage.py's run_process: a command ends its process as soon as what it owes is done, with
its status, all it printed and its exit functions run; a thread still at work is waited for."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from culturebook.cli.main import main

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _python(code: str, tmp_path: Path, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_the_command_prints_all_of_its_output_through_a_pipe(tmp_path):
    """`culturebook reference` prints 24 KB: a pipe holds less, so the end is only there if the
    streams were flushed before the process ended."""
    whole = CliRunner().invoke(main, ["reference"]).output
    result = subprocess.run([sys.executable, "-m", "culturebook", "reference"], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": SRC}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert len(whole) > 16_384
    assert result.stdout == whole


def test_the_status_is_kept_and_the_exit_functions_run(tmp_path):
    process = _python("""
        import atexit, pathlib, click
        from culturebook.cli.usage import run_process

        @click.group()
        def group(): pass

        @group.command()
        def done():
            atexit.register(pathlib.Path("cleaned").write_text, "yes")
            print("the last line", end="")
            raise SystemExit(3)

        import sys; sys.argv = ["x", "done"]
        run_process(group)
        """, tmp_path)
    out, err = process.communicate()
    assert (process.returncode, out, err) == (3, "the last line", "")
    assert (tmp_path / "cleaned").read_text() == "yes"


def test_a_thread_still_at_work_is_waited_for(tmp_path):
    """The command returns while a thread waits for a line on stdin; the process ends only after
    the line came and the thread wrote its file."""
    process = _python("""
        import pathlib, sys, threading, click
        from culturebook.cli.usage import run_process

        def finish():
            line = sys.stdin.readline()
            pathlib.Path("finished").write_text(line)

        @click.group()
        def group(): pass

        @group.command()
        def start():
            threading.Thread(target=finish).start()
            print("started", flush=True)

        sys.argv = ["x", "start"]
        run_process(group)
        """, tmp_path, stdin=subprocess.PIPE)
    assert process.stdout.readline() == "started\n"
    out, err = process.communicate("the line\n")
    assert (process.returncode, err) == (0, "")
    assert (tmp_path / "finished").read_text() == "the line\n"


def test_a_status_that_is_a_message_is_printed_as_python_prints_it(tmp_path):
    process = _python("""
        import sys, click
        from culturebook.cli.usage import run_process

        @click.group()
        def group(): pass

        @group.command()
        def stop():
            sys.exit("stopped: the reason")

        sys.argv = ["x", "stop"]
        run_process(group)
        """, tmp_path)
    out, err = process.communicate()
    assert (process.returncode, out, err) == (1, "", "stopped: the reason\n")


def test_a_profiled_command_still_writes_its_profile(tmp_path):
    """`python -m cProfile -o F -m culturebook ...` writes F after the command returned."""
    result = subprocess.run([sys.executable, "-m", "cProfile", "-o", "run.prof", "-m", "culturebook",
                             "--version"], cwd=tmp_path, env={**os.environ, "PYTHONPATH": SRC},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("culturebook ")
    assert (tmp_path / "run.prof").stat().st_size > 0


def test_the_process_ends_without_pythons_teardown(tmp_path):
    """What only the interpreter's teardown would do (an object of a module freed at exit) is not
    done: the process ended once the command's output and exit functions were through."""
    process = _python("""
        import atexit, sys, click
        from culturebook.cli.usage import run_process

        class Freed:
            def __del__(self):
                sys.stderr.write("freed at teardown\\n")

        kept = Freed()

        @click.group()
        def group(): pass

        @group.command()
        def done():
            atexit.register(sys.stdout.write, "exit function\\n")
            print("output")

        sys.argv = ["x", "done"]
        run_process(group)
        """, tmp_path)
    out, err = process.communicate()
    assert (process.returncode, out, err) == (0, "output\nexit function\n", "")
