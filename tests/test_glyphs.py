"""glyphs.py: text no font of the theme sets is one line per field and script, at the field, from
`culturebook build` and `culturebook check` alike; exit 1, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from culturebook.project.glyphs import Gap, missing_scripts
from projectkit import assert_refused, edit, make_project, run_cli, where

ARABIC = "نحن نهتم بالتفاصيل وبالناس الذين يقفون خلفها"  # 38 letters
HINDI = "हम छोटी चीज़ें अच्छी तरह बनाते हैं"  # 28 code points of Devanagari


def test_missing_scripts_are_one_gap_per_script_and_one_per_symbol():
    latin = frozenset(range(0x20, 0x7F))
    assert missing_scripts(f"Care: {ARABIC} 😀 and हम 😀", latin) == [
        Gap("Arabic", 6, 38), Gap("'😀' (U+1F600 GRINNING FACE)", 51, 2), Gap("Devanagari", 57, 2)]
    assert missing_scripts("plain text\n", latin) == []


def test_gap_messages():
    assert Gap("Arabic", 0, 21).message("this field") == (
        "no font in fonts/ sets Arabic (21 characters in this field); add one and list it in "
        "theme.yaml")
    assert Gap("Thai", 0, 1).message("the name") == (
        "no font in fonts/ sets Thai (1 character in the name); add one and list it in theme.yaml")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("glyphs") / "project", "minimal")


@pytest.mark.parametrize("text, script, count", [(ARABIC, "Arabic", 38), (HINDI, "Devanagari", 28)])
@pytest.mark.slow
def test_a_field_in_a_script_no_font_sets_is_one_line(project: Path, text: str, script: str,
                                                      count: int) -> None:
    en = project / "content" / "en.yaml"
    old = '    statement: "We say what we think, kindly and early."'
    content = edit(en, old, f'    statement: "{text}"')
    try:
        line = (f"content/en.yaml:{where(content, text)}: no font in fonts/ sets {script} "
                f"({count} characters in this field); add one and list it in theme.yaml")
        for command in (("build", "booklet"), ("check",)):
            lines = assert_refused(run_cli(*command, cwd=project), line)
            assert lines == [line, "1 problem in 1 file; nothing was written"], command
            assert not (project / "build").exists()
    finally:
        edit(en, f'    statement: "{text}"', old)


@pytest.mark.slow
def test_source_text_every_edition_prints_is_one_line(tmp_path: Path) -> None:
    """A value's English name is printed in the Chinese edition too (beneath its translation):
    still one line, at the English field."""
    root = make_project(tmp_path / "project", "bilingual")
    content = edit(root / "content" / "en.yaml", 'name: "Care"', 'name: "Care عناية"')
    line = (f"content/en.yaml:{where(content, 'عناية')}: no font in fonts/ sets Arabic "
            "(5 characters in this field); add one and list it in theme.yaml")
    lines = assert_refused(run_cli("check", cwd=root), line)
    assert lines == [line, "1 problem in 1 file; nothing was written"]
