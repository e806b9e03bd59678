"""A build with something to make: check, plan, render (here, in workers or on a cluster),
preflight and publish, under the build lock."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from culturebook.build import fingerprint
from culturebook.build.cluster import render_on_cluster
from culturebook.build.outputs import Artifact, preflight_outputs, previous_findings, write_outputs
from culturebook.build.plan import Plan, plan_edition, stamp
from culturebook.build.run import _PROJECTS, render_in_pool
from culturebook.checks.project import Checked, check_project
from culturebook.errors import Location, Problem, Problems, ProjectError
from culturebook.files import cache_dir
from culturebook.preflight.report import report_files
from culturebook.project.glyphs import coverage, missing_scripts
from culturebook.project.recipients import read_recipients
from culturebook.publish import MANIFEST, build_lock, load_manifest
from culturebook.render.engine import Renderer


def make_build(root: Path, target: str, parts: set[str], editions: list[str] | None, strict: bool,
               progress: Callable[..., None], force: bool, jobs: int | None,
               recipients: Path | None, cluster: str | None,
               before, render: Callable[[dict], dict] | None = None,
               ) -> tuple[list[Artifact], list[Problem]]:
    """pipeline.build past its check for a build with nothing to do: `before` is the fingerprint
    of the inputs taken then, recorded once the build is published."""
    out = root / "build"
    checked = check_project(root, strict)
    rows = Problems()
    people = read_people(checked, recipients, editions, rows) if target == "personalised" else []

    renderer = Renderer(root, checked.brand, cache_dir(), strict)
    _PROJECTS[(str(renderer.root), strict)] = (checked, renderer)  # inherited by forked workers
    with build_lock(out):
        written, problems, documents = _build_locked(
            root, checked, renderer, out, parts, editions, strict, progress, force,
            jobs or os.cpu_count() or 1, people, cluster, prune=not rows.errors, render=render)
        found = rows.warnings + problems + rows.errors
        left_out = sorted((p for p in found if not p.warning),
                          key=lambda p: (str(p.location.path), p.location.line, p.location.col))
        reported = [p for p in found if p.warning] + left_out
        if not left_out:  # the manifest too: a build that finds it gone or changed reads it all
            listed = [out / MANIFEST] if (out / MANIFEST).is_file() else []
            with contextlib.suppress(OSError):  # a record that cannot be written only costs time
                fingerprint.record(out, before, documents + listed, reported)
    return written, reported




def read_people(checked: Checked, path: Path | None, editions: list[str] | None,
                problems: Problems) -> list:
    """The recipients of personalised booklets: the good rows of the CSV, each of whose texts the
    fonts can draw. A bad row is a problem at its line and column, and is left out."""

    settings = checked.content.settings
    first = checked.content.editions[0]
    if path is None:
        raise ProjectError([Problem(Location(first.files[0]), "personalised booklets need a list "
                                    "of recipients", "give it with --recipients people.csv "
                                    "(make personalised RECIPIENTS=people.csv)")])
    missing = [e for e in checked.content.editions if not e.data.get("welcome")]
    if missing:
        raise ProjectError([Problem(Location(missing[0].files[-1]), "personalised booklets need a "
                                    "welcome letter: the content has no welcome:",
                                    "add welcome: with cover, title and body, as in "
                                    "docs/personalised.md")])
    languages = [e.lang for e in checked.content.editions]
    people = read_recipients(path, settings.get("recipients") or {}, languages, problems)
    covered = frozenset().union(*(coverage(checked.brand, lang, cache_dir() / "cmaps")
                                  for lang in languages))
    good = []
    for person in people:
        texts = {"name": person.name, **{k: v for k, v in person.values.items() if isinstance(v, str)}}
        bad = [(column, gap) for column, text in texts.items()
               for gap in missing_scripts(text, covered)]
        if bad:  # one line for the row: the first script of its first cell that no font sets
            column, gap = bad[0]
            cell = person.cells[column]
            problems.error(Location(cell.path, cell.line, cell.col + gap.first),
                           gap.message(f"the {column}"))
        elif editions is None or person.language in ("", *editions):
            good.append(person)
    return good


def _build_locked(root, checked, renderer, out, parts, editions, strict, progress, force, jobs,
                  people=(), cluster=None, prune=False, render=None):
    """The build, under its lock. With `prune`, personalised booklets of people no longer in the
    recipients CSV are removed (not when some rows had errors: theirs are kept as they were)."""
    chosen = [e for e in checked.content.editions if editions is None or e.lang in editions]
    previous = {} if force else load_manifest(out)
    # Planning first, so that progress can count to a total and workers get every leaf at once.
    plan = Plan(out, previous, stamp(checked))
    for edition in chosen:
        plan_edition(renderer, edition, parts, plan, people)
    leaves, total, ready = plan.leaves(), plan.total(), {}
    if cluster and leaves:  # even one: --cluster means the renders happen there
        ready = render_on_cluster(cluster, leaves, progress, total)
    elif render is not None and leaves:  # the preview's warm renderer, in its own order
        ready = render(leaves)
    elif jobs > 1 and len(leaves) > 1:
        ready = render_in_pool(leaves, jobs, progress, total)
    outputs = plan.run(ready, progress)
    rejected = plan.rejected()
    notes = Problems()
    if parts & {"print", "personalised-print"} and checked.brand.output_profile() is None:
        notes.warn(checked.brand.setting_location("print"),
                   "the print editions are CMYK but not PDF/X-4: no output profile is named",
                   "add the print shop's CMYK profile as print.output-profile in theme.yaml")
        notes.raise_if_errors(strict)
    fresh = [o for o in outputs if o.fresh]
    if fresh:
        progress(f"preflight of {len(fresh)} files", total, total)
    # Documents made again are preflighted; unchanged ones keep (and report again) their findings.
    earlier = previous_findings(out, {o.edition for o in outputs})
    findings, warnings = preflight_outputs(root, checked, outputs, strict, earlier)
    stale = plan.stale if prune and not rejected else []  # removed, and so out of the manifest
    reports = {}
    if fresh:
        reports = report_files(out, {**earlier, **findings})
    artifacts = write_outputs(out, outputs, reports, stale)
    return (artifacts, checked.warnings + notes.warnings + warnings + rejected,
            [o.path for o in outputs])
