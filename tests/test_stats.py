"""stats.py, as `culturebook check` prints it: untranslated fields and reading lengths per edition."""

from __future__ import annotations

import pytest

from culturebook.build.pipeline import build
from culturebook.project.stats import Length, length
from projectkit import make_project, run_cli


@pytest.mark.parametrize(("text", "words", "characters"), [
    ("Hello *world*, it's well-known.", 4, 0),
    ("A [link](https://example.com) counts as its text.\n\n- and a list item", 10, 0),
    ("我们的文化，不断演进。", 0, 9),
    ("QQ 是腾讯在1999年推出的产品", 2, 10),  # QQ and 1999 are words; 10 Han characters
])
def test_a_text_is_measured_as_a_reader_meets_it(text, words, characters):
    assert length(text) == Length(words, characters)


def test_reading_time_counts_words_and_chinese_characters_at_their_own_pace():
    assert Length(230, 0).minutes == pytest.approx(1.0)
    assert Length(0, 400).minutes == pytest.approx(1.0)
    assert str(Length(1, 0)) == "1 word" and str(Length(12, 1300)) == "12 words, 1,300 characters"


@pytest.mark.slow
def test_check_lists_each_editions_untranslated_fields_and_chapter_lengths(tmp_path):
    root = make_project(tmp_path / "project", "bilingual")
    zh = root / "content" / "zh-Hans.yaml"
    zh.write_text(zh.read_text(encoding="utf-8").replace('subtitle: "示例公司的文化"\n', ""),
                  encoding="utf-8")
    result = run_cli("check", cwd=root)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "en: every field translated"
    assert lines[1] == "  chapters: 18 words, under a minute to read"
    assert lines[2].split() == ["Why", "we", "exist", "18", "words", "0.1", "min"]
    assert "zh-Hans: 1 field untranslated: subtitle" in lines
    assert "  posters (each value's statement; how full its frame was when last built):" in lines
    assert lines[lines.index("zh-Hans: 1 field untranslated: subtitle") - 3].split()[-3:] == [
        "not", "built", "yet"]
    assert lines[-1] == "ok: 2 editions (en, zh-Hans), theme 'Default', 1 warning"


@pytest.mark.slow
def test_a_longer_statement_fills_more_of_its_posters_frame(tmp_path):
    """check shows how full each poster's frame was when last built: the room left before a
    statement runs into the value's name."""
    root = make_project(tmp_path / "project", "minimal")
    build(root, "posters")

    def craft() -> str:
        line = next(x for x in run_cli("check", cwd=root).stdout.splitlines()
                    if x.split()[:1] == ["Craft"])
        return line.split()[-4]

    before = craft()
    en = root / "content" / "en.yaml"
    statement = "We finish what we start, and we finish it well."
    en.write_text(en.read_text(encoding="utf-8").replace(statement, statement + " " + statement * 3),
                  encoding="utf-8")
    build(root, "posters")
    after = craft()
    assert before.endswith("%") and after.endswith("%")
    assert int(after[:-1]) > int(before[:-1]) > 0

