"""Links from the preview's problem list to the editor: a problem at `file:line:col` becomes a link
that opens that file at that line and column (`culturebook preview --editor`). An editor is named
(vscode, the default, and the others in EDITORS) or given as a URL template with {path}, {line} and
{col}; `none` shows problems without links. Only a file of the project that exists gets a link.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

from culturebook.errors import Location

# The URL each editor registers with the desktop to open a file at a line (and column).
EDITORS = {
    "vscode": "vscode://file{path}:{line}:{col}",
    "vscodium": "vscodium://file{path}:{line}:{col}",
    "cursor": "cursor://file{path}:{line}:{col}",
    "sublime": "subl://open?url=file://{path}&line={line}&column={col}",
    "textmate": "txmt://open?url=file://{path}&line={line}&column={col}",
    "idea": "idea://open?file={path}&line={line}&column={col}",
    "pycharm": "pycharm://open?file={path}&line={line}&column={col}",
}
UNSAFE_SCHEMES = {"javascript", "data", "vbscript", "http", "https"}  # not an editor; a page could run


def editor_template(value: str) -> str | None:
    """The URL template for --editor's value (None for `none`); ValueError says what is wrong."""
    if value == "none":
        return None
    if value in EDITORS:
        return EDITORS[value]
    if "{path}" not in value:
        raise ValueError(f"'{value}' is not an editor culturebook knows ({', '.join(EDITORS)}, none) "
                         "nor a URL template with {path}, e.g. myeditor://open?file={path}&line={line}")
    scheme = urlsplit(value).scheme.lower()
    if not scheme or scheme in UNSAFE_SCHEMES:
        raise ValueError(f"'{value}' does not start with an editor's own scheme (e.g. myeditor://); "
                         f"{scheme or 'no scheme'} links are not an editor")
    try:
        value.format(path="/p", line=1, col=1)
    except (KeyError, IndexError, ValueError):
        raise ValueError(f"'{value}' has a placeholder other than {{path}}, {{line}} and {{col}}") from None
    return value


def editor_link(template: str | None, root: Path, location: Location) -> str | None:
    """The link opening `location` in the editor, or None (no editor, or not a file of the project)."""
    if template is None:
        return None
    path = (root / location.path).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return None
    return template.format(path=quote(path.as_posix(), safe="/"), line=location.line or 1,
                           col=location.col or 1)
