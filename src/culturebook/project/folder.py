"""Where a project is, and which languages it has, before anything of it is loaded."""

from __future__ import annotations

from pathlib import Path

from culturebook.errors import Problems, ProjectError
from culturebook.project.schema import SETTINGS
from culturebook.project.yamlsource import load_yaml


def find_project(start: Path) -> Path:
    """The folder holding content/publication.yaml: `start` or the nearest parent that has one."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "content" / "publication.yaml").is_file():
            return folder
    return start


def content_languages(root: Path) -> list[str]:
    """The languages named in content/publication.yaml, in order (best effort: [] when it cannot
    be read), for checking --edition before anything is loaded."""

    try:
        node = load_yaml(root / "content" / "publication.yaml")
        return SETTINGS.convert(node, "", Problems()).get("languages") or []
    except (ProjectError, AttributeError):
        return []
