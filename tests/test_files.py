"""files: the cache's pruning (old entries go, at most once a day, never a font configuration) and
a cache folder that cannot be written, as one line."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from culturebook.files import KEEP_DAYS, PRUNE_EVERY, PRUNED, prune_cache
from projectkit import make_project, run_cli

DAY = 24 * 3600


def entry(cache: Path, rel: str, age_days: float, now: float) -> Path:
    path = cache / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    os.utime(path, (now - age_days * DAY, now - age_days * DAY))
    return path


def test_entries_older_than_the_limit_go_and_the_rest_stay(tmp_path):
    cache, now = tmp_path / "culturebook", time.time()
    old = [entry(cache, f"{name}/old.json", KEEP_DAYS + 1, now) for name in PRUNED]
    nested = entry(cache, "jinja/3.1.6/__jinja2_old.cache", KEEP_DAYS + 5, now)
    recent = [entry(cache, f"{name}/recent.json", KEEP_DAYS - 1, now) for name in PRUNED]
    # never pruned, however old: a project's font configuration and the font copies
    fonts_conf = entry(cache, "fontconfig/abc/fonts.conf", 400, now)
    copy = entry(cache, "font-copies/123-x/Inter.ttf", 400, now)

    assert prune_cache(cache, now) == len(old) + 1
    assert not any(p.exists() for p in [*old, nested])
    assert all(p.is_file() for p in [*recent, fonts_conf, copy])
    assert nested.parent.is_dir()  # folders stay: a build may be about to write into one


def test_it_prunes_at_most_once_a_day(tmp_path):
    cache, now = tmp_path / "culturebook", time.time()
    entry(cache, "copyfit/a.json", KEEP_DAYS + 1, now)
    assert prune_cache(cache, now) == 1
    later = entry(cache, "copyfit/b.json", KEEP_DAYS + 1, now)
    assert prune_cache(cache, now + PRUNE_EVERY - 60) == 0
    assert later.is_file()
    assert prune_cache(cache, now + PRUNE_EVERY + 60) == 1
    assert not later.exists()


def test_a_missing_or_unwritable_cache_prunes_nothing_and_raises_nothing(tmp_path):
    assert prune_cache(tmp_path / "none", time.time()) == 0
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert prune_cache(blocker / "culturebook", time.time()) == 0


def test_a_command_prunes_the_cache_it_uses(tmp_path, monkeypatch):
    cache_home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    root = make_project(tmp_path / "project", "minimal")
    old = entry(cache_home / "culturebook", "values/old.json", KEEP_DAYS + 1, time.time())
    result = run_cli("check", cwd=root)
    assert result.returncode == 0, result.stderr
    assert not old.exists()
    assert (cache_home / "culturebook" / ".pruned").is_file()


@pytest.mark.parametrize("command", [["check"], ["build", "booklet"]])
def test_a_cache_folder_that_cannot_be_written_is_one_line(tmp_path, monkeypatch, command):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    root = make_project(tmp_path / "project", "minimal")
    earlier = root / "build" / "en" / "booklet.pdf"  # an earlier build's output stays as it was
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"%PDF-1.7 earlier")
    result = run_cli(*command, cwd=root)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:2] == [
        f"{blocker}/culturebook: the cache folder cannot be written: not a directory",
        "    hint: point XDG_CACHE_HOME at a folder this user may write"]
    assert "Traceback" not in result.stderr
    assert earlier.read_bytes() == b"%PDF-1.7 earlier"
    assert sorted(p.name for p in (root / "build").rglob("*")) == ["booklet.pdf", "en"]
