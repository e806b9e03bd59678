"""render/hyphens.py: Pyphen's hyphenation patterns kept in culturebook's cache break words exactly
where Pyphen's own parse does, and a cache entry that is missing, damaged or stale is parsed again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyphen
import pytest

from culturebook.render.hyphens import KeptPatterns

# English (what the default theme hyphenates), and the two languages whose patterns carry
# nonstandard hyphenations (Catalan's l·l, Hungarian's ssz=sz), which are stored otherwise.
LANGUAGES = ["en_US", "ca", "hu_HU"]
WORDS = {"en_US": ["responsibility", "international", "hyphenation"],
         "ca": ["col·legi", "paral·lel", "intel·ligència"],
         "hu_HU": ["asszonnyal", "vissza", "megszentségteleníthetetlenségeskedéseitekért"]}


def _kept(folder: Path, path: Path) -> pyphen.HyphDict:
    """The patterns of `path` as a second process finds them: stored by a first, read back."""
    KeptPatterns(folder)[path] = pyphen.HyphDict(path)
    later = KeptPatterns(folder)
    assert path in later, "the entry the first process stored was not read back"
    return dict.__getitem__(later, path)


def _same(kept: pyphen.HyphDict, parsed: pyphen.HyphDict) -> None:
    assert kept.patterns == parsed.patterns
    assert kept.maxlen == parsed.maxlen
    for tag, (_, values) in parsed.patterns.items():
        assert [getattr(v, "data", None) for v in kept.patterns[tag][1]] == \
            [getattr(v, "data", None) for v in values], tag


@pytest.mark.parametrize("language", LANGUAGES)
def test_patterns_read_back_hyphenate_as_pyphen_does(tmp_path, language):
    path = pyphen.LANGUAGES[language]
    parsed = pyphen.HyphDict(path)
    kept = _kept(tmp_path, path)
    _same(kept, parsed)
    for word in WORDS[language]:
        assert kept.positions(word) == parsed.positions(word)
        assert [p.data for p in kept.positions(word)] == [p.data for p in parsed.positions(word)]


@pytest.mark.slow
def test_every_dictionary_pyphen_ships_reads_back_the_same(tmp_path):
    for path in sorted(set(pyphen.LANGUAGES.values())):
        _same(_kept(tmp_path, path), pyphen.HyphDict(path))


def test_pyphen_uses_the_kept_patterns_once_weasyprint_is_loaded(tmp_path, monkeypatch):
    """After load_weasyprint a layout's Pyphen finds the dictionary in the cache: no parse."""
    from culturebook.render.weasy import load_weasyprint

    load_weasyprint()
    assert isinstance(pyphen.hdcache, KeptPatterns)
    path = pyphen.LANGUAGES["en_US"]
    monkeypatch.setattr(pyphen, "hdcache", KeptPatterns(tmp_path))
    pyphen.Pyphen(lang="en_US")  # parsed, and stored
    monkeypatch.setattr(pyphen, "hdcache", KeptPatterns(tmp_path))

    def no_parse(*_):
        raise AssertionError("parsed again")

    monkeypatch.setattr(pyphen.HyphDict, "__init__", no_parse)
    assert pyphen.Pyphen(lang="en_US").inserted("responsibility") == "re-spon-si-bil-i-ty"
    assert dict.__contains__(pyphen.hdcache, path)


@pytest.mark.parametrize("damage", [b"", b"{", b"[1, 2]", b"[" * 100_000, b'{"ab": [0, ["x"]]}',
                                    b'{"ab": [0, [[1, "a", 2]]]}', b"\xff\xfe"],
                         ids=["empty", "cut", "a-list", "nested-too-deep", "a-string-value",
                              "a-short-alternative", "not-utf-8"])
def test_a_damaged_entry_is_parsed_again(tmp_path, damage):
    path = pyphen.LANGUAGES["en_US"]
    _kept(tmp_path, path)
    (entry,) = tmp_path.iterdir()
    entry.write_bytes(damage)
    later = KeptPatterns(tmp_path)
    assert path not in later  # Pyphen then parses the file, and stores it again
    later[path] = pyphen.HyphDict(path)
    _same(_kept(tmp_path, path), pyphen.HyphDict(path))


def test_a_changed_dictionary_file_is_parsed_again(tmp_path):
    path = tmp_path / "hyph_xx.dic"
    shutil.copyfile(pyphen.LANGUAGES["en_US"], path)
    _kept(tmp_path / "cache", path)
    text = path.read_text("iso-8859-1")
    path.write_text(text + "\nzz1zz\n", "iso-8859-1")  # one pattern more, and a new size
    later = KeptPatterns(tmp_path / "cache")
    assert path not in later
    assert "zzzz" in pyphen.HyphDict(path).patterns


def test_a_cache_that_cannot_be_written_costs_only_time(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    path = pyphen.LANGUAGES["en_US"]
    kept = KeptPatterns(blocked / "hyphenation")
    kept[path] = pyphen.HyphDict(path)
    assert path in kept
    assert path not in KeptPatterns(blocked / "hyphenation")
