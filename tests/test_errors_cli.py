"""Bad input, end to end through the command line: one clear line, exit 1, no traceback, nothing lost.

Every test breaks one file of a small project that was built once (module fixture), runs
`python -m culturebook`, and asserts the exact first line `path:line:col: message` (line and column
computed from the broken text), the hint, the exit status, that no traceback was printed, and that
build/ is byte for byte what the good build left. Inputs caught by the checks cost no rendering;
only the template and layout cases render a booklet.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from PIL import Image

import culturebook
from culturebook.project.content import MAX_IMAGE_PIXELS
from projectkit import assert_refused, edit, make_project, problem_lines, run_cli, snapshot, where

EN = "content/en.yaml"
BOOKLET_HTML = "layouts/default/booklet.html"
BOOKLET_CSS = "layouts/default/booklet.css"
ONE_PROBLEM = "1 problem in 1 file; nothing was written"
OUTSIDE_HINT = "put the image in content/ and refer to it by a relative path"
REFUSED_HINT = "nothing is fetched from the network or from outside the project"
LAST_PARAGRAPH = "Everything else follows from that."


@dataclass
class Project:
    """The built project, with what a good build left in build/."""

    root: Path
    good_build: dict[str, bytes]

    def edit(self, rel: str, old: str, new: str) -> str:
        return edit(self.root / rel, old, new)

    def prepend(self, rel: str, text: str) -> str:
        path = self.root / rel
        path.write_text(text + path.read_text(encoding="utf-8"), encoding="utf-8")
        return path.read_text(encoding="utf-8")

    def refused(self, *args: str, first: str, hint: str | None = None,
                summary: str = ONE_PROBLEM) -> list[str]:
        """Run the CLI; it must fail with `first` (and `hint`) and leave build/ as it was."""
        lines = assert_refused(run_cli(*args, cwd=self.root), first, hint)
        assert lines[-1] == summary
        assert snapshot(self.root / "build") == self.good_build, "build/ changed"
        return lines


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    root = make_project(tmp_path_factory.mktemp("cli") / "project")
    result = run_cli("build", "all", cwd=root)
    assert result.returncode == 0, result.stderr
    good = snapshot(root / "build")
    assert "en/booklet.pdf" in good and "manifest.json" in good
    return root, good


@pytest.fixture
def project(built: tuple[Path, dict[str, bytes]]) -> Iterator[Project]:
    """The built project; whatever a test breaks in content/ or layouts/ is put back afterwards."""
    root, good = built
    sources = {p: p.read_bytes() for folder in ("content", "layouts")
               for p in (root / folder).rglob("*") if p.is_file()}
    yield Project(root, good)
    for folder in ("content", "layouts"):
        for p in (root / folder).rglob("*"):
            if p.is_file() and p not in sources:
                p.unlink()
    for p, data in sources.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """A local web server that records every request, to prove nothing is fetched."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", requests
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def insert_after_body(project: Project, line: str) -> str:
    """Put `line` on its own line just after <body> in the booklet template."""
    return project.edit(BOOKLET_HTML, "<body>\n", f"<body>\n{line}\n")


# --- YAML ---------------------------------------------------------------------------------------


def test_yaml_syntax_error(project: Project) -> None:
    text = project.edit(EN, 'edition: "Version 1"', "edition: Version: 1")
    project.refused("build", first=f"{EN}:{where(text, 'Version: 1', 7)}: YAML syntax error: "
                    "mapping values are not allowed in this context")


def test_tab_indentation_has_a_hint(project: Project) -> None:
    text = project.edit(EN, '    name: "Care"', '\tname: "Care"')
    project.refused("check", first=f"{EN}:{where(text, chr(9))}: YAML syntax error: "
                    "found a tab character that violates indentation",
                    hint="indent with spaces, never tabs")


def test_anchor(project: Project) -> None:
    text = project.edit(EN, 'organisation: "Example Co"', 'organisation: &org "Example Co"')
    project.refused("build", first=f"{EN}:{where(text, '&org')}: YAML anchors (&org) are not allowed",
                    hint="write the text out")


def test_alias(project: Project) -> None:
    text = project.edit(EN, 'author: "Example Co"', "author: *org")
    project.refused("build", first=f"{EN}:{where(text, '*org')}: YAML aliases (*org) are not allowed",
                    hint="write the text out")


def test_duplicate_key(project: Project) -> None:
    second = 'edition: "Version 2"'
    text = project.edit(EN, 'edition: "Version 1"', f'edition: "Version 1"\n{second}')
    project.refused("build", first=f"{EN}:{where(text, second)}: duplicate key 'edition'",
                    hint=f"it is already set on line {where(text, 'edition').split(':')[0]}")


def test_python_tag_is_refused_not_run(project: Project) -> None:
    text = project.edit(EN, 'edition: "Version 1"',
                        'edition: !!python/object/apply:os.system ["touch PWNED"]')
    project.refused("build", first=f"{EN}:{where(text, '!!python')}: "
                    "YAML tags (!!python/object/apply:os.system) are not allowed",
                    hint="remove the tag")
    assert not (project.root / "PWNED").exists()


def test_empty_file(project: Project) -> None:
    (project.root / EN).write_text("# nothing yet\n")
    project.refused("build", first=f"{EN}:1:1: file is empty",
                    hint="it needs at least title, organisation, mission, values")


# --- schema -------------------------------------------------------------------------------------


def test_unknown_key_with_did_you_mean(project: Project) -> None:
    text = project.edit(EN, '    title: "Why we exist"', '    titel: "Why we exist"')
    assert where(text, "titel") == "23:5"  # the fixture the message below is computed from
    project.refused("build", first=f"{EN}:23:5: unknown key 'titel' in chapters[1]",
                    hint="did you mean 'title'?")


def test_missing_required_field(project: Project) -> None:
    text = project.edit(EN, '    statement: "We say what we think, kindly and early."\n', "")
    project.refused("build", first=f"{EN}:{where(text, 'id: candour')}: "
                    "missing required field 'values[2].statement'",
                    hint="add it, e.g. statement: Hold to our principles; put ethics first.")


def test_wrong_type(project: Project) -> None:
    text = project.edit(EN, 'mission: "Make small things well"',
                        "mission: [Make small things, well]")
    project.refused("build", first=f"{EN}:{where(text, '[Make')}: mission must be text, not a list")


def test_bad_date(project: Project) -> None:
    text = project.edit("content/publication.yaml", "date: 2024-05-01", "date: 2024-13-01")
    project.refused("build", first=f"content/publication.yaml:{where(text, '2024-13')}: "
                    "date must be a date written YYYY-MM-DD")


# --- content that reaches outside ---------------------------------------------------------------


def add_paragraph(project: Project, markdown: str) -> str:
    return project.edit(EN, LAST_PARAGRAPH, f"{LAST_PARAGRAPH}\n\n      {markdown}")


def test_remote_image_is_not_fetched(project: Project, server: tuple[str, list[str]]) -> None:
    base, requests = server
    text = add_paragraph(project, f"![x]({base}/a.png)")
    project.refused("build", first=f"{EN}:{where(text, '![x]')}: image '{base}/a.png' is not a file "
                    "in the project; nothing is fetched", hint=OUTSIDE_HINT)
    assert requests == []


@pytest.mark.parametrize("src, message", [
    ("file:///etc/passwd", "image 'file:///etc/passwd' is not a file in the project; nothing is fetched"),
    ("/etc/passwd", "image '/etc/passwd' is not a file in the project; nothing is fetched"),
    ("../../outside.png", "image '../../outside.png' is outside the project's content/ folder"),
])
def test_image_outside_the_project(project: Project, src: str, message: str) -> None:
    (project.root.parent / "outside.png").write_bytes(b"")  # it exists, and is still refused
    text = add_paragraph(project, f"![x]({src})")
    project.refused("build", first=f"{EN}:{where(text, '![x]')}: {message}", hint=OUTSIDE_HINT)


def test_missing_image(project: Project) -> None:
    text = add_paragraph(project, "A picture: ![our office](office.png)")
    project.refused("build", first=f"{EN}:{where(text, '![our')}: image 'office.png' not found "
                    "(looked for content/office.png)")


def test_image_over_the_pixel_limit(project: Project) -> None:
    side = 8000
    assert side * side > MAX_IMAGE_PIXELS
    Image.new("1", (side, side), 1).save(project.root / "content" / "big.png")  # one colour: ~10 KB
    text = add_paragraph(project, "![big](big.png)")
    project.refused("build", first=f"{EN}:{where(text, '![big]')}: image 'big.png' is {side}×{side} "
                    f"px ({side * side // 1_000_000} MP), over the {MAX_IMAGE_PIXELS // 1_000_000} MP "
                    "limit", hint="scale it down; 300 ppi at the printed size is enough")



@pytest.mark.parametrize("command", ["build", "check"])
def test_truncated_image(project: Project, command: str) -> None:
    # Unchecked, WeasyPrint draws the rows it can decode and the rest black, with exit status 0.
    image = Image.new("RGB", (400, 300), "#0052D9")
    image.paste((255, 255, 255), (0, 150, 400, 300))
    image.save(project.root / "content" / "team.png")
    data = (project.root / "content" / "team.png").read_bytes()
    (project.root / "content" / "team.png").write_bytes(data[: len(data) // 2])
    text = add_paragraph(project, "Our team: ![the team at the summer meeting](team.png)")
    project.refused(command, first=f"{EN}:{where(text, '![the team')}: image 'team.png' is "
                    "truncated: the file ends before the picture does (Truncated File Read)",
                    hint="export or download the image again")


def test_svg_that_refers_to_the_network_is_refused_and_nothing_is_fetched(
        project: Project, server: tuple[str, list[str]]) -> None:
    base, requests = server
    (project.root / "content" / "mark.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">\n'
        f'  <image href="{base}/pixel.png" width="40" height="40"/>\n</svg>\n')
    text = add_paragraph(project, "![Our mark](mark.svg)")
    project.refused("build", first=f"{EN}:{where(text, '![Our mark]')}: image 'mark.svg' refers to "
                    f"'{base}/pixel.png' (line 2 of the SVG); an SVG must hold all it shows, nothing "
                    "is fetched for it",
                    hint="embed what it refers to (as a data: URI) or remove the reference")
    assert requests == []

# --- fonts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("old, new, char, message", [
    ('title: "Small Things, Done Well"', 'title: "Small Things 😀 Done Well"', "😀",
     "no font in fonts/ has '😀' (U+1F600 GRINNING FACE); add one that does and list it in "
     "theme.yaml"),
    ("Everything else", "Everything ༀ else", "ༀ",
     "no font in fonts/ sets Tibetan (1 character in this field); add one and list it in "
     "theme.yaml"),
])
def test_character_missing_from_the_fonts(project: Project, old: str, new: str, char: str,
                                          message: str) -> None:
    text = project.edit(EN, old, new)
    project.refused("build", first=f"{EN}:{where(text, char)}: {message}")


# --- layouts ------------------------------------------------------------------------------------


def test_template_syntax_error(project: Project) -> None:
    text = insert_after_body(project, "{% if %}")
    line = where(text, "{% if %}").split(":")[0]
    project.refused("build", first=f"{BOOKLET_HTML}:{line}:1: template error: "
                    "Expected an expression, got 'end of statement block'")


def test_template_runtime_error(project: Project) -> None:
    text = insert_after_body(project, "<p>{{ no_such_variable }}</p>")
    line = where(text, "no_such_variable").split(":")[0]
    project.refused("build", "booklet", first=f"{BOOKLET_HTML}:{line}:1: template error: "
                    "'no_such_variable' is undefined")


def test_layout_image_outside_the_project(project: Project) -> None:
    text = insert_after_body(project, '<img src="/etc/passwd">')
    project.refused("build", "booklet", first=f"{BOOKLET_HTML}:{where(text, '/etc/passwd')}: refused "
                    "to load 'file:///etc/passwd': only files inside the project are used",
                    hint=REFUSED_HINT)



def test_theme_logo_that_is_not_well_formed_svg(project: Project) -> None:
    # Unchecked, WeasyPrint logs "Failed to load image at '...': " (no reason) and leaves it out.
    (project.root / "layouts" / "default" / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">\n<rect width="40">\n'
        "</svg>\n")
    text = insert_after_body(project, '<img src="logo.svg" alt="Example Co">')
    for command in ("check", "build"):
        project.refused(command, first=f"{BOOKLET_HTML}:{where(text, 'logo.svg')}: image 'logo.svg' "
                        "is not well-formed SVG: mismatched tag: line 3, column 2",
                        hint="open it in an SVG editor and save it again")


def test_theme_background_that_is_truncated(project: Project) -> None:
    Image.new("RGB", (300, 300), "#0052D9").save(project.root / "layouts" / "default" / "paper.png")
    data = (project.root / "layouts" / "default" / "paper.png").read_bytes()
    (project.root / "layouts" / "default" / "paper.png").write_bytes(data[: len(data) // 2])
    text = project.prepend(BOOKLET_CSS, ".culturebook-test { background: url(paper.png); }\n")
    project.refused("build", first=f"{BOOKLET_CSS}:{where(text, 'paper.png')}: image 'paper.png' is "
                    "truncated: the file ends before the picture does (Truncated File Read)",
                    hint="export or download the image again")


@pytest.mark.parametrize("href, shown, reason, hint", [
    ("notes.txt", "layouts/default/notes.txt", "no such file",
     "an href is relative to the layout's own folder"),
    ("/etc/hostname", "file:/etc/hostname", "only files inside the project are used; nothing is "
     "fetched", "attach only files inside the project"),
])
def test_layout_attachment_that_cannot_be_attached(project: Project, href: str, shown: str,
                                                   reason: str, hint: str) -> None:
    # Unchecked, the line was "layouts/default/booklet.html: Failed to load attachment: ...".
    text = insert_after_body(project, f'<a rel="attachment" href="{href}">notes</a>')
    project.refused("build", "booklet", first=f"{BOOKLET_HTML}:{where(text, href)}: cannot attach "
                    f"'{shown}' to the PDF: {reason}", hint=hint)

def test_layout_import_from_the_network(project: Project, server: tuple[str, list[str]]) -> None:
    base, requests = server
    text = project.prepend(BOOKLET_CSS, f"@import url({base}/x.css);\n")
    project.refused("build", first=f"{BOOKLET_CSS}:{where(text, base)}: refused to load "
                    f"'{base}/x.css': only files inside the project are used", hint=REFUSED_HINT)
    assert requests == []


def test_css_weasyprint_does_not_understand(project: Project) -> None:
    text = project.prepend(BOOKLET_CSS, ".culturebook-test { colour: blue; }\n")
    message = f"{BOOKLET_CSS}:{where(text, 'colour')}: CSS: Ignored `colour: blue`, unknown property"
    hint = "WeasyPrint does not understand this; it is left out"

    result = run_cli("check", cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = problem_lines(result)
    assert lines[0] == message.replace(": CSS:", ": warning: CSS:")
    assert lines[1] == f"    hint: {hint}"
    assert result.stdout.strip().endswith("1 warning")
    assert snapshot(project.root / "build") == project.good_build

    project.refused("check", "--strict", first=message, hint=hint)


# --- the command line itself --------------------------------------------------------------------


def test_edition_not_in_the_languages_is_a_usage_error(project: Project) -> None:
    result = run_cli("build", "--edition", "xx", cwd=project.root)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for --edition: 'xx' is not one of the content's languages (en)")
    assert snapshot(project.root / "build") == project.good_build


def test_unknown_target_is_a_usage_error(project: Project) -> None:
    result = run_cli("build", "nonsense", cwd=project.root)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        'culturebook build: unknown target "nonsense"',
        "    hint: targets: booklet, posters, bundle, print, archive, all, personalised"]
    assert snapshot(project.root / "build") == project.good_build


@pytest.mark.parametrize(("args", "first", "hint"), [
    (("build", "bookelt"), 'culturebook build: unknown target "bookelt"', 'did you mean "booklet"?'),
    (("build", "postres"), 'culturebook build: unknown target "postres"', 'did you mean "posters"?'),
    (("chek",), 'culturebook: unknown command "chek"', 'did you mean "check"?'),
    (("new", "acme", "--example", "tencnt"), 'culturebook new: unknown example "tencnt"',
     'did you mean "tencent"?'),
    (("share", "--security", "tsl"), 'culturebook share: unknown security "tsl"',
     'did you mean "tls"?'),
])
def test_a_mistyped_word_gets_did_you_mean(tmp_path: Path, args, first, hint) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [first, f"    hint: {hint}"]
    assert not list(tmp_path.iterdir()), "something was written"


@pytest.mark.parametrize(("args", "close"), [  # every command of culturebook --help
    (("--verison",), "--version"),
    (("build", "--forse"), "--force"),
    (("check", "--strikt"), "--strict"),
    (("preflight", "--projet", "."), "--project"),
    (("preview", "--prot", "8001"), "--port"),
    (("new", "acme", "--exmple", "blank"), "--example"),
    (("reference", "--ouput", "x.md"), "--output"),
    (("share", "--recipents", "people.csv"), "--recipients"),
])
def test_a_mistyped_option_is_one_line_with_did_you_mean(tmp_path: Path, args, close) -> None:
    result = run_cli(*args, cwd=tmp_path)
    command = " ".join(("culturebook", *args[:1])) if len(args) > 1 else "culturebook"
    wrong = next(a for a in args if a.startswith("--"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f'{command}: unknown option "{wrong}"',
                                          f'    hint: did you mean "{close}"?']


def test_an_option_nothing_is_close_to_points_at_help(tmp_path: Path) -> None:
    result = run_cli("build", "--zzz", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ['culturebook build: unknown option "--zzz"',
                                          "    hint: culturebook build --help lists its options"]


def test_other_usage_errors_are_one_line_without_the_usage_block(tmp_path: Path) -> None:
    result = run_cli("new", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["Error: Missing argument 'FOLDER'."]


@pytest.mark.parametrize("command", ["build", "check", "preflight", "preview", "share"])
def test_a_project_folder_that_does_not_exist_is_one_line(tmp_path: Path, command: str) -> None:
    result = run_cli(command, "--project", "nowhere", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["nowhere: no such project folder"]
    assert result.stdout == "" and not list(tmp_path.iterdir())


def test_a_project_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x\n", encoding="utf-8")
    result = run_cli("check", "--project", "notes.txt", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["notes.txt: not a folder"]


@pytest.mark.slow
def test_version(tmp_path: Path) -> None:
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    from importlib.metadata import version

    # the engines a PDF's bytes depend on, each with the version this machine runs
    assert re.fullmatch(rf"culturebook {re.escape(culturebook.__version__)} \(weasyprint 70\.\d+, "
                        rf"pydyf {version('pydyf')}, pypdf {version('pypdf')}, fonttools "
                        rf"{version('fonttools')}, Pango 1\.\d+\.\d+; Python 3\.\d+\.\d+\)\n",
                        result.stdout), result.stdout
    # and culturebook's version is the installed distribution's: written in one place
    assert version("culturebook") == culturebook.__version__


# --- accessibility: each fault one line at check time ---------------------------------------------


def test_image_without_alt_text_names_the_field(project: Project) -> None:
    Image.new("RGB", (300, 200), "white").save(project.root / "content" / "team.png")
    text = add_paragraph(project, "![](team.png)")
    project.refused("check", first=f"{EN}:{where(text, '![](team.png)')}: chapters[1].body: image "
                    "'team.png' has no alt text",
                    hint="describe what it shows: ![what it shows](team.png); an image that is "
                    "only decoration says so: ![decorative](team.png)")


def test_a_text_colour_below_wcag_aa_contrast_fails_the_theme(project: Project) -> None:
    theme = "layouts/default/theme.yaml"
    text = project.edit(theme, 'muted: "#4E5969"', 'muted: "#8E98A8"')
    at = where(text, 'muted: "#8E98A8"')
    project.refused(
        "check", first=f"{theme}:{at}: colour 'muted' (#8E98A8) on "
        "'paper' (#FFFFFF) has a contrast of 2.91:1; body text needs 4.5:1 (WCAG AA), "
        "e.g. .imprint-subtitle in booklet.html",
        hint="darken or lighten 'muted' or 'paper' until they differ enough",
        # and the warning that print: colours: muted now prints far darker than the screen colour
        summary="1 problem in 1 file (and 1 warning); nothing was written")
    # (this project has no highlights, so no frontispiece sets 'muted' on 'tint')


def test_a_background_no_list_names_is_checked_from_the_stylesheet(project: Project) -> None:
    theme = (project.root / "layouts/default/theme.yaml").read_text(encoding="utf-8")
    project.edit(BOOKLET_CSS, ".value-statement { font-size: var(--type-lead);",
                 ".value-statement { background: var(--colour-brand); font-size: var(--type-lead);")
    project.refused(
        "check", first=f"layouts/default/theme.yaml:{where(theme, 'ink: ')}: colour 'ink' "
        "(#1D2129) on 'brand' (#0052D9) has a contrast of 2.46:1; body text needs 4.5:1 "
        "(WCAG AA), e.g. .value-statement in booklet.html",
        hint="darken or lighten 'ink' or 'brand' until they differ enough")


def test_large_text_needs_only_3_to_1(project: Project) -> None:
    # #777777 on white is 4.48:1: enough for the section titles (19 pt), not for body text
    text = project.edit(BOOKLET_CSS, ".section-title { font-size: var(--type-h2); "
                        "color: var(--colour-brand);",
                        ".section-title { font-size: var(--type-h2); color: #777777;")
    result = run_cli("check", cwd=project.root)
    assert result.returncode == 0, result.stderr
    project.edit(BOOKLET_CSS, ".value-statement { font-size: var(--type-lead);",
                 ".value-statement { color: #777777; font-size: var(--type-lead);")
    project.refused(
        "check", first=f"{BOOKLET_CSS}:{where(text, '#777777')}: colour #777777 on 'paper' "
        "(#FFFFFF) has a contrast of 4.48:1; body text needs 4.5:1 (WCAG AA), "
        "e.g. .value-statement in booklet.html",
        hint="darken or lighten #777777 or 'paper' until they differ enough")


def test_a_heading_level_skipped_in_a_layout(project: Project) -> None:
    text = project.edit(BOOKLET_HTML, '<h2 class="contents-title">{{ labels.contents }}</h2>',
                        '<h3 class="contents-title">{{ labels.contents }}</h3>')
    project.refused("check", first=f"{BOOKLET_HTML}:{where(text, '<h3 class=')}: heading level "
                    "skipped in booklet.html: <h3> follows <h1>",
                    hint="use <h2> here, so that a screen reader's outline has no gap")


def test_check_shows_problems_by_file_the_files_with_errors_first():
    from pathlib import Path

    from culturebook.errors import Location, Problem, by_file

    def at(path, line, warning=False):
        return Problem(Location(Path(path), line, 1), "x", warning=warning)

    problems = [at("a.css", 3, warning=True), at("b.yaml", 9), at("c.yaml", 2), at("b.yaml", 1, True),
                at("b.yaml", 4)]
    assert [(str(p.location.path), p.location.line, p.warning) for p in by_file(problems)] == [
        ("b.yaml", 4, False), ("b.yaml", 9, False), ("b.yaml", 1, True),  # one file's, together
        ("c.yaml", 2, False),
        ("a.css", 3, True),  # a file with warnings only comes after every file with errors
    ]


def test_a_project_error_crosses_a_process_boundary_whole():
    """Worker processes send their errors back pickled: the problems arrive as they were, a hint
    with braces in it too (unpickled from its message, it broke the worker pool)."""
    import pickle
    from pathlib import Path

    from culturebook.errors import Location, Problem, ProjectError

    error = ProjectError([Problem(Location(Path("layouts/default/theme.yaml"), 3, 5), "a {brace}",
                                  "add e.g. banner: {max: 42pt, min: 28pt} under fit: roles:")])
    again = pickle.loads(pickle.dumps(error))
    assert again.problems == error.problems and str(again) == str(error)
