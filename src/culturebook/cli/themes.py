"""`culturebook themes`: every theme a project can name, where it comes from, and the font packages.

One line per theme, in the order `theme:` and `extends:` look for them: the project's layouts/,
the installed theme packages (the `culturebook.themes` entry points), culturebook's own themes.
Each says the theme's name, its version, where it comes from (the project, a package and its
version, or culturebook) and its description; a name found twice says which one is used. The
installed font packages (`culturebook.fonts`) follow. Nothing is built and no theme's code runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from culturebook.cli.output import escape, out
from culturebook.cli.usage import ProjectFolder
from culturebook.errors import ProjectError
from culturebook.project.folder import find_project
from culturebook.project.themes import Found, font_packages, installed_themes, theme_version
from culturebook.project.yamlsource import load_yaml


@click.command("themes")
@click.option("--project", "project", type=ProjectFolder(), default=None,
              help="The project whose layouts/ to list too (default: the one around the current folder).")
def themes_command(project: Path | None) -> None:
    """List the themes a project can name in `theme:` and `extends:`: the project's own, those of
    the installed theme packages and culturebook's default theme, with where each comes from."""
    root = project.resolve() if project else find_project(Path.cwd())
    for line in theme_lines(root):
        out.print(escape(line), crop=False)


def theme_lines(root: Path) -> list[str]:
    """The listing: a line per theme, then one per font package."""
    themes = installed_themes(root)
    rows, seen = [], set()
    for found in themes:
        settings = _settings(found)
        version = theme_version(found, settings) or "-"
        where = found.where
        note = str(settings.get("description") or "")
        if found.name in seen:
            note = f"not used: the {found.name} above comes first"
        seen.add(found.name)
        rows.append((found.name, version, where, note))
    width = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
    lines = [f"{n:<{width[0]}}  {v:<{width[1]}}  {w:<{width[2]}}  {d}".rstrip() for n, v, w, d in rows]
    lines += [f"fonts: {found.folder.name} ({found.where})" for found in font_packages()]
    return lines


def _settings(found: Found) -> dict:
    """A theme's description and version as written in its theme.yaml (empty when unreadable:
    `culturebook check` reports its problems)."""
    try:
        node = load_yaml(found.folder / "theme.yaml")
    except (ProjectError, OSError):
        return {}
    if not isinstance(node.value, dict):
        return {}
    return {key: node.value[key].value for key in ("description", "version")
            if key in node.value and isinstance(node.value[key].value, str)}
