"""brand.py: a theme is data; a new brand is a YAML change that reaches the PDF."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PIL import Image

from conftest import read_pdf
from culturebook.build.pipeline import build
from culturebook.errors import Problems, ProjectError
from culturebook.project.brand import load_brand
from projectkit import where


def _theme(root, text: str, name: str = "acme") -> None:
    folder = root / "layouts" / name
    folder.mkdir(parents=True)
    (folder / "theme.yaml").write_text(text, encoding="utf-8")
    pub = root / "content" / "publication.yaml"
    pub.write_text(pub.read_text(encoding="utf-8").replace("theme: default", f"theme: {name}"),
                   encoding="utf-8")


def test_theme_values_reach_css_as_custom_properties(make_project):
    root = make_project()
    brand = load_brand(root, "default", Problems())
    css = brand.css_properties()
    assert "--colour-brand: #0052D9;" in css
    assert "--type-body: 9.5pt;" in css
    assert "--poster-band: 22pt;" in css
    assert brand.labels_for("zh-Hans")["contents"] == "目录"
    assert brand.stack_for("fr")["text"] == ["Inter"]  # any other language takes the default


def test_each_edition_falls_back_on_every_other_font_the_theme_declares(make_project):
    """One chain per edition: its own stack, then the theme's other families, so a Chinese name
    in the English edition and an English word in the Chinese one are set by a theme font."""
    brand = load_brand(make_project(), "default", Problems())
    assert brand.chain_for("en") == ["Inter", "Inter Display", "Noto Sans CJK SC"]
    assert brand.chain_for("zh-Hans") == ["Noto Sans CJK SC", "Inter", "Inter Display"]
    css = brand.css_properties()
    assert ('* { --font-text: "Inter", "Noto Sans CJK SC"; '
            '--font-heading: "Inter Display", "Inter", "Noto Sans CJK SC"; }') in css
    assert (':lang(zh-Hans) { --font-text: "Noto Sans CJK SC", "Inter", "Inter Display"; '
            '--font-heading: "Noto Sans CJK SC", "Inter", "Inter Display"; }') in css


def test_fit_roles_take_the_languages_own_range():
    """word-zh is the word role of every Chinese edition; other languages take word."""
    from culturebook.project.brand import Brand

    roles = {"word": {"max": "150pt", "min": "60pt", "lines": 3},
             "word-zh": {"max": "300pt", "min": "84pt", "lines": 3},
             "statement": {"max": "42pt", "min": "28pt"}}
    brand = Brand("t", (), {}, {}, {}, {}, (), {}, {}, (), {}, fit={"roles": roles})
    assert brand.fit_roles("zh-Hans") == {"word": roles["word-zh"], "statement": roles["statement"]}
    assert brand.fit_roles("en") == {"word": roles["word"], "statement": roles["statement"]}


@pytest.mark.slow
def test_a_theme_that_extends_default_rebrands_the_booklet(make_project, tmp_path):
    """A few lines of YAML change the brand colour (and the soft text on it, which on red needs
    to be lighter to keep 4.5:1); templates and stylesheets come from default."""
    root = make_project()
    _theme(root, 'name: Acme\nextends: default\ncolours:\n  brand: "#C8102E"\n'
           '  on-brand-soft: "#FFE8EB"\n')
    brand = load_brand(root, "acme", Problems())
    assert brand.colours["brand"] == "#C8102E" and brand.colours["ink"] == "#1D2129"
    assert [d.name for d in brand.dirs] == ["acme", "default"]
    build(root, "booklet", ["en"])
    pdf = root / "build" / "en" / "booklet.pdf"
    subprocess.run(["pdftoppm", "-r", "20", "-f", "1", "-l", "1", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "cover")], check=True)
    with Image.open(tmp_path / "cover.png") as cover:
        r, g, b = cover.convert("RGB").getpixel((2, cover.height // 2))
    assert abs(r - 0xC8) < 8 and abs(g - 0x10) < 8 and abs(b - 0x2E) < 8
    assert len(read_pdf(pdf).pages) % 4 == 0


def test_an_extending_theme_changes_one_setting_of_a_mapping_and_keeps_the_rest(make_project):
    root = make_project()
    _theme(root, 'name: Acme\nextends: default\nprint:\n  colours:\n    brand: "0 100 80 0"\n')
    brand = load_brand(root, "acme", Problems())
    default = load_brand(root, "default", Problems())
    assert brand.print["colours"] == {**default.print["colours"], "brand": "0 100 80 0"}
    assert brand.print["bleed"] == default.print["bleed"]
    assert brand.missing_cmyk() == []


@pytest.mark.parametrize(("theme", "expected"), [
    ('name: Acme\nextends: default\ncolours:\n  brand: "#12"\n',
     "layouts/acme/theme.yaml:4:10: colours.brand: '#12' is not a valid colour"),
    ("name: Acme\nextends: default\ntype:\n  body: 10\n",
     "layouts/acme/theme.yaml:4:9: type.body: '10' is not a valid length"),
    ("name: Acme\nextends: nowhere\n",
     "layouts/acme/theme.yaml:2:10: theme 'nowhere' not found"),
    ("name: Acme\nextends: default\nfonts:\n  faces:\n    - {family: Inter, file: Missing.otf}\n"
     "  stacks:\n    default: {text: [Inter]}\n",
     "layouts/acme/theme.yaml:5:29: font file fonts/Missing.otf not found"),
    ("name: Acme\nextends: default\nfonts:\n  stacks:\n    default: {text: [Comic Sans]}\n",
     "layouts/acme/theme.yaml:5:22: font stack 'default' names 'Comic Sans', which no font face "
     "provides"),
])
def test_bad_theme_is_one_clear_line(make_project, theme, expected):
    root = make_project()
    _theme(root, theme)
    with pytest.raises(ProjectError) as info:
        load_brand(root, "acme", Problems())
    assert info.value.problems[0].format(root).splitlines()[0].startswith(expected)


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda data: data[:5000], "is truncated: its 'cmap' table runs past the end of the file "
     "(5000 bytes)"),
    (lambda data: b"<html>not a font</html>", "cannot be read as a font: Not a TrueType or "
     "OpenType font (bad sfntVersion)"),
])
@pytest.mark.slow
def test_a_damaged_font_file_is_an_error_at_its_face(make_project, damage, reason):
    """Unchecked, the glyph check crashed on it (an internal error, no place named)."""
    root = make_project()
    good = root / "fonts" / "Inter" / "Inter-Regular.otf"
    (root / "fonts" / "Broken.otf").write_bytes(damage(good.read_bytes()))
    text = ("name: Acme\nextends: default\nfonts:\n  faces:\n"
            "    - {family: Inter, file: Inter/Inter-Regular.otf}\n"
            "    - {family: Inter, file: Broken.otf, weight: 700}\n")
    _theme(root, text)
    result = subprocess.run([sys.executable, "-m", "culturebook", "check", "--project", str(root)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.splitlines()[:2] == [
        f"layouts/acme/theme.yaml:{where(text, 'Broken.otf')}: font file fonts/Broken.otf {reason}",
        "    hint: copy the font file again from where it came from"]


def test_bad_theme_through_the_cli(make_project):
    root = make_project()
    _theme(root, 'name: Acme\nextends: default\ncolours:\n  brand: "blue"\n')
    result = subprocess.run([sys.executable, "-m", "culturebook", "check", "--project", str(root)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == \
        "layouts/acme/theme.yaml:4:10: colours.brand: 'blue' is not a valid colour"
    assert "Traceback" not in result.stderr + result.stdout


# --- labels: a language the theme has none for ----------------------------------------------------

FRENCH_LABELS = ("contents, mission, vision, values, milestones, notes, edition, published, "
                 "organisation, translation, untranslated, cover, quotes, date_format, months")


@pytest.mark.slow
def test_a_language_without_labels_prints_the_source_languages_with_one_warning(tmp_path):
    from projectkit import make_project, problem_lines, run_cli

    root = make_project(tmp_path / "project", "languages")
    result = run_cli("check", cwd=root)
    assert result.returncode == 0, result.stderr
    labels = [line for line in problem_lines(result) if "labels" in line]
    assert labels == [f"content/fr.yaml:1:1: warning: no labels for fr in the theme: "
                      f"{FRENCH_LABELS} are in English; translate them under labels:"]
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_labels_translated_in_part_list_the_rest_at_labels(tmp_path):
    from culturebook.checks.project import check_project
    from projectkit import make_project

    root = make_project(tmp_path / "project", "languages")
    fr = root / "content" / "fr.yaml"
    fr.write_text(fr.read_text(encoding="utf-8") + "\nlabels:\n  contents: Sommaire\n"
                  "  date_format: \"{day}/{month}/{year}\"\n", encoding="utf-8")
    line = fr.read_text(encoding="utf-8").splitlines().index("labels:") + 1
    (warning,) = [p for p in check_project(root).warnings if "labels" in p.message]
    assert warning.format(root) == (
        f"content/fr.yaml:{line}:1: warning: labels for fr are incomplete: mission, vision, values, "
        "milestones, notes, edition, published, organisation, translation, untranslated, cover, "
        "quotes are in English; translate them under labels:")  # no months: the date has none


@pytest.mark.slow
def test_the_default_theme_has_every_label_in_each_of_its_languages(tmp_path):
    from culturebook.checks.project import check_project
    from culturebook.project.schema import LABEL_KEYS
    from projectkit import make_project

    root = make_project(tmp_path / "project", "bilingual")
    brand = check_project(root).brand
    for lang in ("en", "zh-Hans", "zh-Hant", "ja", "ko"):
        needed = set(LABEL_KEYS) - ({"months"} if lang != "en" else set())
        assert needed <= set(brand.labels_for(lang)), lang
        assert brand.stack_for(lang)["text"] == (["Inter"] if lang == "en" else ["Noto Sans CJK SC"])


# --- a colour lost to a YAML comment ------------------------------------------------------------

COMMENT_HINT = 'a `#` starts a comment in YAML: quote the colour, e.g. {key}: "{colour}"'


def _check(root) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "culturebook", "check", "--project", str(root)],
                          capture_output=True, text=True)


@pytest.mark.parametrize(("old", "new", "key", "colour"), [
    ('  brand: "#0052D9"', "  brand: #0052D9", "brand", "#0052D9"),  # the colour, unquoted
    ('  ink: "#1D2129"', "  ink: #1D2129", "ink", "#1D2129"),
    ('  brand: "#0052D9"', "  brand:", "brand", ""),  # left out, its line's remark kept
])
def test_an_unquoted_colour_is_one_error_at_its_key_with_the_hint(make_project, old, new, key,
                                                                   colour):
    root = make_project()
    theme = root / "layouts/default/theme.yaml"
    text = theme.read_text(encoding="utf-8")
    assert text.count(old) == 1
    theme.write_text(text.replace(old, new), encoding="utf-8")
    line = text[: text.index(old)].count("\n") + 1
    result = _check(root)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    comment = colour or "#"
    assert lines[0] == (f"layouts/default/theme.yaml:{line}:3: colours.{key} is empty: "
                        f"YAML reads '{comment}' after it as a comment")
    assert lines[1] == "    hint: " + COMMENT_HINT.format(key=key, colour=colour or "#0052D9")
    # no cascade of contrast errors: the one problem, and nothing written
    assert lines[2:] == ["1 problem in 1 file; nothing was written"]
    assert "Traceback" not in result.stderr + result.stdout


def test_an_empty_colour_without_a_comment_is_an_error_too(make_project):
    root = make_project()
    _theme(root, "name: Acme\nextends: default\ncolours:\n  brand:\nprint:\n  colours:\n"
           "    brand: # 100 62 0 0\n")
    result = _check(root)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:4] == [
        "layouts/acme/theme.yaml:4:3: colours.brand is empty: give a colour",
        "    hint: write colours as #RRGGBB",
        "layouts/acme/theme.yaml:7:5: print.colours.brand is empty: give a CMYK colour",
        "    hint: write CMYK as four percentages: cyan magenta yellow black, e.g. 100 62 0 0",
    ]


def test_an_unclosed_quote_in_the_theme_names_where_it_opened(make_project):
    root = make_project()
    _theme(root, "name: Acme\nextends: default\ncolours:\n  brand: '#0052D9\n  ink: \"#1D2129\"\n"
           "type:\n  body: 10pt\n")
    result = _check(root)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "layouts/acme/theme.yaml:8:1: YAML syntax error: found unexpected end of stream",
        "    hint: the quote opened at 4:10 is never closed",
        "1 problem in 1 file; nothing was written",
    ]


def test_a_quote_closed_by_the_next_lines_quote_names_where_it_opened(make_project):
    root = make_project()
    _theme(root, "name: Acme\nextends: default\ncolours:\n  brand: '#0052D9\n  ink: '#1D2129'\n")
    result = _check(root)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "layouts/acme/theme.yaml:4:10: colours.brand: '#0052D9 ink:' is not a valid colour",
        "    hint: the quote opened at 4:10 closes only at 5:8: close it on line 4",
        "1 problem in 1 file; nothing was written",
    ]


# --- file names no file can have (found by fuzzing: they were internal errors) ----------------------


def test_a_font_file_name_too_long_is_one_line(make_project):
    root = make_project()
    long = "a" * 300
    _theme(root, "name: Acme\nextends: default\nfonts:\n  faces:\n"
           f"    - {{family: Inter, file: Inter/{long}.otf}}\n")
    result = _check(root)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:2] == [
        f"layouts/acme/theme.yaml:5:29: font file 'Inter/{long[:53]}…' has a name too long for a "
        "file (over 255 bytes)",
        "    hint: name a font file in the project's fonts/ folder",
    ]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_an_output_profile_name_too_long_is_one_line(make_project):
    root = make_project()
    long = "b" * 300
    _theme(root, f"name: Acme\nextends: default\nprint:\n  output-profile: {long}.icc\n")
    result = _check(root)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:2] == [
        f"layouts/acme/theme.yaml: output profile '{long[:59]}…' has a name too long for a file "
        "(over 255 bytes)",
        "    hint: put the print shop's .icc file next to theme.yaml and name it here",
    ]


def test_a_values_grid_size_that_is_not_one_word_is_one_line(make_project):
    # found by fuzzing: "size: 0 0" reached the layout and came out as an internal error
    root = make_project()
    _theme(root, "name: Acme\nextends: default\npages:\n  values:\n"
           "    - {columns: 1, rows: 1, size: 0 0}\n")
    result = _check(root)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "layouts/acme/theme.yaml:5:35: pages.values[1].size: '0 0' is not a valid size class",
        "    hint: name a size class of booklet.css (.values.size-<size>), e.g. compact",
        "1 problem in 1 file; nothing was written",
    ]


def test_a_file_that_is_no_font_is_refused_and_closed(make_project):
    # found by fuzzing: fontTools refused fonts/README.md but left it open (a ResourceWarning)
    import gc

    root = make_project()
    _theme(root, "name: Acme\nextends: default\nfonts:\n  faces:\n"
           "    - {family: Inter, file: README.md}\n")
    with pytest.raises(ProjectError) as info:
        load_brand(root, "acme", Problems())
    assert info.value.problems[0].format(root).splitlines()[0] == (
        "layouts/acme/theme.yaml:5:29: font file fonts/README.md cannot be read as a font: "
        "Not a TrueType or OpenType font (bad sfntVersion)")
    del info
    gc.collect()  # an unclosed file is reported when collected: here, inside this test
