"""The build as an engine: unchanged documents are not made again, one build at a time, and a build
killed mid-render leaves every earlier output and the manifest as they were."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import page_text, read_pdf
from culturebook.build.documents import edition_documents
from culturebook.build.pipeline import PARTS, build
from culturebook.checks.project import check_project
from projectkit import edit, make_project


def manifest(root):
    return {a["path"]: a for a in json.loads((root / "build" / "manifest.json").read_text())["artifacts"]}


def consistent(root) -> None:
    """Every file the manifest lists is there, with the bytes the manifest says."""
    for path, entry in manifest(root).items():
        data = (root / "build" / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], path


def test_nothing_to_do_renders_nothing_and_loads_no_pdf_library(built_root):
    before = (built_root / "build" / "manifest.json").read_bytes()
    code = ("import sys; from pathlib import Path; from culturebook.build.pipeline import build; "
            f"written, _ = build(Path({str(built_root)!r}), 'all'); "
            "print(len(written), 'weasyprint' in sys.modules, 'pypdf' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["0", "False", "False"]
    assert (built_root / "build" / "manifest.json").read_bytes() == before


@pytest.mark.slow
def test_one_changed_value_remakes_only_what_shows_it(make_project):
    root = make_project()
    build(root, "all")
    en = root / "content" / "en.yaml"
    en.write_text(en.read_text(encoding="utf-8").replace(
        '"Be open and work together, and keep evolving."', '"Be open, work together, keep evolving."'),
        encoding="utf-8")
    written, _ = build(root, "all")
    assert sorted(a.path for a in written) == [
        "en/archive/booklet.pdf",  # it carries content/en.yaml
        "en/booklet.pdf",  # the values spread shows every statement
        "en/culture-kit.pdf",
        "en/posters/collaboration.pdf",
        "en/print/booklet-imposed.pdf",
        "en/print/booklet.pdf",
        "en/print/posters/collaboration.pdf",
        "en/print/tiles/collaboration.pdf",
        "zh-Hans/archive/booklet.pdf",  # it carries en.yaml too, the source language's file
    ]
    consistent(root)
    assert [a.path for a in build(root, "booklet", force=True)[0]] == ["en/booklet.pdf",
                                                                       "zh-Hans/booklet.pdf"]


def test_a_second_build_at_once_is_one_clear_line(built_root):
    with open(built_root / "build" / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.write("pid 4242")
        handle.flush()
        result = subprocess.run([sys.executable, "-m", "culturebook", "build", "booklet", "--project",
                                 str(built_root)], capture_output=True, text=True)
        handle.truncate(0)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "build: another build of this project is running (pid 4242)"
    assert "Traceback" not in result.stderr


@pytest.mark.interruption
@pytest.mark.slow
def test_a_build_killed_mid_render_leaves_the_last_build_intact(make_project, tmp_path):
    """Ctrl-C and SIGKILL while a worker lays the booklet out. The booklet's stylesheet draws a
    background from a file that is then replaced by a named pipe: the worker that lays the booklet
    out waits there, and the test's open() of the pipe returns exactly when it has (an event, not a
    guess of how long a build takes). The content is edited first, so a build that was not
    interrupted would change the manifest and the files, and the test would see it."""
    from PIL import Image

    root = make_project()
    paper = root / "layouts" / "default" / "paper.png"
    Image.new("RGB", (8, 8), "white").save(paper)
    with (root / "layouts" / "default" / "booklet.css").open("a", encoding="utf-8") as css:
        css.write("\n.chapter { background-image: url(paper.png); }\n")
    build(root, "bundle")
    before = {p: (root / "build" / p).read_bytes() for p in manifest(root)}
    listed = (root / "build" / "manifest.json").read_bytes()
    edit(root / "content" / "en.yaml", "and keep evolving.", "and keep changing.")
    saved = paper.read_bytes()
    paper.unlink()
    os.mkfifo(paper)
    for sig in (signal.SIGINT, signal.SIGKILL):
        # The build hears Ctrl-C even when this test runs in a background job, whose children
        # start with SIGINT ignored (and Python then leaves it ignored).
        with subprocess.Popen(
                [sys.executable, "-m", "culturebook", "build", "bundle", "--project", str(root)],
                stderr=subprocess.PIPE, text=True,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) as process:
            writer = []
            opened = threading.Thread(target=lambda w=writer: w.append(open(paper, "wb")), daemon=True)
            opened.start()
            opened.join(120)  # returns when a worker of the build opens the pipe to read it
            assert writer and process.poll() is None
            process.send_signal(sig)
            _, stderr = process.communicate(timeout=60)
            writer[0].close()
        assert process.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL), stderr
        assert "Traceback" not in stderr
        assert (root / "build" / "manifest.json").read_bytes() == listed
        assert {p: (root / "build" / p).read_bytes() for p in manifest(root)} == before
        assert not list((root / "build").rglob(".*.tmp"))
    paper.unlink()
    paper.write_bytes(saved)
    edit(root / "content" / "en.yaml", "and keep changing.", "and keep evolving.")
    assert build(root, "bundle")[0] == []  # and the next build finds nothing to do


@pytest.mark.slow
def test_a_pool_of_workers_makes_the_same_bytes_as_one_process(make_project):
    one, two = make_project("one"), make_project("two")
    build(one, "bundle", jobs=1)
    build(two, "bundle", jobs=2)
    assert {p: e["sha256"] for p, e in manifest(one).items()} == \
        {p: e["sha256"] for p, e in manifest(two).items()}


@pytest.mark.slow
def test_source_date_epoch_dates_every_pdf_and_two_folders_get_the_same_bytes(tmp_path, monkeypatch):
    from pypdf import PdfReader

    from projectkit import make_project

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14 22:13:20 UTC
    first, second = make_project(tmp_path / "a"), make_project(tmp_path / "b")
    build(first, "bundle", jobs=1)
    build(second, "bundle", jobs=2)
    assert {p: a["sha256"] for p, a in manifest(first).items()} == \
        {p: a["sha256"] for p, a in manifest(second).items()}
    for path in manifest(first):
        info = PdfReader(first / "build" / path).metadata
        assert (info["/CreationDate"][:16], info["/ModDate"][:16]) == ("D:20231114221320",) * 2, path
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    written, _ = build(first, "bundle")  # a new date is a new input: every document is made again
    assert sorted(a.path for a in written) == sorted(manifest(first))


def test_a_bad_source_date_epoch_is_one_line(tmp_path):
    import os

    from projectkit import make_project

    root = make_project(tmp_path / "a")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "yesterday"}
    result = subprocess.run([sys.executable, "-m", "culturebook", "build"], cwd=root, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "$SOURCE_DATE_EPOCH: SOURCE_DATE_EPOCH is 'yesterday', not a whole number of seconds since 1970",
        "    hint: unset it, or set it to e.g. $(git log -1 --format=%ct)",
        "1 problem in 1 file; nothing was written"]
    assert not (root / "build" / "manifest.json").exists()


def aged(root, seconds: float = 3600):
    """`root`'s source files, made to look edited `seconds` ago (as files are between edits)."""
    then = time.time() - seconds
    for folder in ("content", "layouts", "fonts"):
        for path in (root / folder).rglob("*"):
            if path.is_file() and not path.is_symlink():
                os.utime(path, (then, then))
    return root


@pytest.mark.slow
def test_nothing_changed_since_the_same_build_is_answered_from_file_times(tmp_path):
    """A build whose sources and documents are as the same build left them reads no content (not
    even the YAML parser is imported) and reports the same problems again, warnings included."""
    root = make_project(tmp_path / "project", "minimal")
    css = root / "layouts" / "default" / "booklet.css"
    css.write_text(css.read_text(encoding="utf-8") + ".cover { colour: red; }\n", encoding="utf-8")
    _, problems = build(aged(root), "booklet")
    assert [p.message for p in problems] == ["CSS: Ignored `colour: red`, unknown property"]
    code = ("import sys; from pathlib import Path; from culturebook.build.pipeline import build; "
            f"written, problems = build(Path({str(root)!r}), 'booklet'); "
            "print(len(written), 'yaml' in sys.modules, 'jinja2' in sys.modules); "
            "print(*[p.format() for p in problems], sep='\\n')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == ["0 False False"] + "\n".join(
        p.format() for p in problems).splitlines()


@pytest.mark.slow
def test_a_document_changed_or_removed_since_is_made_again(tmp_path):
    root = aged(make_project(tmp_path / "project", "minimal"))
    build(root, "booklet")
    booklet = root / "build" / "en" / "booklet.pdf"
    good = booklet.read_bytes()
    booklet.write_bytes(good[:-10])
    assert [a.path for a in build(root, "booklet")[0]] == ["en/booklet.pdf"]
    assert booklet.read_bytes() == good
    booklet.unlink()
    assert [a.path for a in build(root, "booklet")[0]] == ["en/booklet.pdf"]
    (root / "build" / "manifest.json").unlink()  # what was made from what: unknown, so made again
    assert [a.path for a in build(root, "booklet")[0]] == ["en/booklet.pdf"]
    assert (root / "build" / "manifest.json").is_file()
    assert [a.path for a in build(root, "posters")[0]]  # other options: another build entirely


@pytest.mark.slow
def test_an_edit_that_keeps_size_and_time_just_after_a_build_is_still_seen(tmp_path):
    """The race file times cannot see: a source changed in the same clock tick as the version the
    last build read, keeping its size. A fingerprint of files that new is not trusted."""
    root = aged(make_project(tmp_path / "project", "minimal"))
    en = root / "content" / "en.yaml"
    text = en.read_text(encoding="utf-8")
    name = 'organisation: "Example Co"'
    assert name in text
    en.write_text(text.replace(name, name.replace("Co", "Cx")), encoding="utf-8")
    build(root, "booklet")
    tick = en.stat().st_mtime_ns
    en.write_text(text.replace(name, name.replace("Co", "Cz")), encoding="utf-8")  # same size
    os.utime(en, ns=(tick, tick))
    written, _ = build(root, "booklet")
    assert [a.path for a in written] == ["en/booklet.pdf"]
    assert "Example Cz" in page_text(read_pdf(root / "build" / "en" / "booklet.pdf"), 0)


def test_an_editions_documents_are_what_a_build_of_each_target_writes(tmp_path):
    """build.documents, which share and the preview read too, lists what each target writes: built
    one target after another, the manifest lists the documents of the targets built so far."""
    root = make_project(tmp_path / "project", "minimal")
    checked = check_project(root)
    listed = {}
    for target in ("booklet", "posters", "bundle", "print", "archive"):
        documents = {d.path: (d.kind, e.lang) for e in checked.content.editions
                     for d in edition_documents(checked.brand, e, PARTS[target])}
        written, _ = build(root, target, jobs=2)
        assert {a.path for a in written} <= set(documents), target
        listed.update(documents)
        assert {p: (a["kind"], a["edition"]) for p, a in manifest(root).items()} == listed, target
    every = [d.path for e in checked.content.editions
             for d in edition_documents(checked.brand, e, PARTS["all"])]
    assert sorted(every) == sorted(listed)
