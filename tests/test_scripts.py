"""scripts.py: the script of a character, right-to-left language codes, and text in another
language's script marked with that language in the rendered HTML (pure: no fonts, no layout)."""

from __future__ import annotations

import pytest

from culturebook.project.scripts import is_right_to_left, mark_languages, script_name


@pytest.mark.parametrize("ch, script", [
    ("a", "Latin"), ("é", "Latin"), ("Ω", "Greek"), ("ж", "Cyrillic"), ("ש", "Hebrew"),
    ("ع", "Arabic"), ("न", "Devanagari"), ("\u094d", "Devanagari"), ("ก", "Thai"),
    ("한", "Hangul"), ("ひ", "Hiragana"), ("カ", "Katakana"), ("王", "Han"), ("堃", "Han"),
    ("，", "Han"), ("ༀ", "Tibetan"), ("ሀ", "Ethiopic"),
    ("😀", None), ("1", None), ("—", None), (" ", None),
])
def test_script_name(ch, script):
    assert script_name(ch) == script


@pytest.mark.parametrize("lang, rtl", [
    ("ar", True), ("he", True), ("fa-IR", True), ("ur", True), ("yi", True), ("ku-Arab", True),
    ("az-Arab", True), ("en", False), ("zh-Hans", False), ("hi", False), ("ja", False),
])
def test_is_right_to_left(lang, rtl):
    assert is_right_to_left(lang) is rtl


def han_is_chinese(ch: str, lang: str) -> str | None:
    """What the default theme's fonts decide: Han is set by the zh-Hans stack's fonts."""
    chinese = "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"
    return "zh-Hans" if chinese and not lang.startswith("zh") else None


def test_a_run_of_han_in_an_english_page_is_marked():
    html = '<html lang="en"><body><p>Welcome, 王堃! You join 平台组 on 2025年3月10日.</p></body></html>'
    assert mark_languages(html, han_is_chinese) == (
        '<html lang="en"><body><p>Welcome, <span lang="zh-Hans">王堃</span>! You join '
        '<span lang="zh-Hans">平台组</span> on 2025<span lang="zh-Hans">年3月10日</span>.'
        '</p></body></html>')


def test_spaces_and_punctuation_between_han_stay_in_the_run():
    html = '<p lang="en">他说：王 堃，欢迎加入！ Then English.</p>'
    assert mark_languages(html, han_is_chinese) == (
        '<p lang="en"><span lang="zh-Hans">他说：王 堃，欢迎加入！</span> Then English.</p>')


def test_text_already_in_its_language_is_left_alone():
    html = ('<html lang="en"><body><p lang="zh-Hans">用心 <b>坦诚</b></p><br><p>王</p>'
            '</body></html>')
    assert mark_languages(html, han_is_chinese) == (
        '<html lang="en"><body><p lang="zh-Hans">用心 <b>坦诚</b></p><br>'
        '<p><span lang="zh-Hans">王</span></p></body></html>')


def test_attributes_styles_and_the_head_are_not_text():
    html = ('<html lang="en"><head><title>王</title><style>p::after { content: "王" }</style>'
            '</head><body><img alt="王" src="x.png"><p data-title="王" title=\'王\'>R&amp;D 王'
            '</p></body></html>')
    assert mark_languages(html, han_is_chinese) == html.replace(
        "R&amp;D 王</p>", 'R&amp;D <span lang="zh-Hans">王</span></p>')


def test_a_chinese_page_is_unchanged():
    html = '<html lang="zh-Hans"><body><p>我们的文化 Culture 2024</p></body></html>'
    assert mark_languages(html, han_is_chinese) == html
