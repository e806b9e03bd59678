"""Preflight over files: run, total and write the reports (preflight.json)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from culturebook.errors import Location, Problem, ProjectError
from culturebook.files import write_atomic
from culturebook.pdf.scan import NotAPDF
from culturebook.preflight.checks import preflight_pdf
from culturebook.preflight.expect import (
    REPORT,
    Finding,
    find_targets,
)
from culturebook.preflight.pdfx import rules_listed
from culturebook.publish import build_lock, publish, settle


def run_preflight(root: Path, paths: list[Path],
                  unwritten=None) -> dict[str, list[Finding]]:
    """Check the PDFs (those given, or the whole build), write build/<lang>/preflight.json for the
    files checked under build/<lang>/, and return the findings per file (by name). With
    `unwritten`, reports that cannot be written (build/ read-only, a full disk) are not an error:
    `unwritten(the OSError, the reports' paths)` hears why, and the findings are returned all the
    same."""

    settle(root.resolve() / "build")  # a build's unfinished publish completed before reading it
    targets = find_targets(root, paths)
    results: dict[str, list[Finding]] = {}
    reports: dict[str, list[Finding]] = {}
    problems = []
    for target in targets:
        try:
            findings = preflight_pdf(target.path.read_bytes(), target.expect)
        except NotAPDF as exc:
            problems.append(Problem(Location(Path(target.name)), str(exc)))
            continue
        results[target.name] = findings
        if target.key:
            reports[target.key] = findings
    if problems:
        raise ProjectError(problems)
    try:
        write_reports(root.resolve() / "build", reports)
    except OSError as exc:
        if unwritten is None or exc.errno is None:
            raise
        unwritten(exc, list(report_files(root.resolve() / "build", reports)))
    return results


def report_bytes(results: dict[str, list[Finding]]) -> bytes:
    """Findings per file as JSON: files sorted by name, findings in the order given, and totals."""
    files: list[dict[str, Any]] = []
    for name in sorted(results):
        findings = results[name]
        errors = sum(f.error for f in findings)
        files.append({"path": name, "errors": errors, "warnings": len(findings) - errors,
                      "findings": [{k: v for k, v in asdict(f).items()
                                    if k != "pixels" or v is not None} for f in findings]})
    report: dict[str, Any] = {"errors": sum(f["errors"] for f in files),
                              "warnings": sum(f["warnings"] for f in files), "files": files}
    if any("print" in Path(name).parts for name in results):
        # what "PDF/X-4" means here: the rules held to the print files, and those not checked
        report["pdfx"] = {"files": "every file under print/ when the theme names an output profile",
                          **rules_listed()}
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode()


def write_report(path: Path, results: dict[str, list[Finding]]) -> None:
    """Write findings per file as JSON (report_bytes) through a temporary file and a rename."""

    write_atomic(path, report_bytes(results))


def report_files(build_dir: Path, results: dict[str, list[Finding]]) -> dict[Path, bytes]:
    """build/<lang>/preflight.json for each edition folder among `results` (keyed by path
    relative to build/, as in the manifest: 'en/booklet.pdf'), each listing its files checked;
    files outside an edition folder are left out. {report's path: its bytes}."""
    editions: dict[str, dict[str, list[Finding]]] = {}
    for key, findings in results.items():
        parts = Path(key).parts
        if len(parts) > 1:
            editions.setdefault(parts[0], {})[key] = findings
    return {build_dir / edition / REPORT: report_bytes(files)
            for edition, files in sorted(editions.items())}


def write_reports(build_dir: Path, results: dict[str, list[Finding]]) -> list[Path]:
    """Write the reports of report_files together, under the build lock (publish.publish: all of
    them or none). Returns the reports written."""

    files = report_files(build_dir, results)
    if files:
        with build_lock(build_dir, wait=True):
            publish(build_dir, files)
    return list(files)


def load_totals(build_dir: Path, editions) -> tuple[int, int, list[Path]]:
    """Errors, warnings and the reports, summed over the editions' build/<lang>/preflight.json."""
    errors = warnings = 0
    reports = []
    for edition in editions:
        path = build_dir / edition / REPORT
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        errors, warnings = errors + report["errors"], warnings + report["warnings"]
        reports.append(path)
    return errors, warnings, reports


def totals(results: dict[str, list[Finding]]) -> tuple[int, int]:
    """(errors, warnings) over every file."""
    errors = sum(f.error for findings in results.values() for f in findings)
    return errors, sum(len(findings) for findings in results.values()) - errors


def failed(results: dict[str, list[Finding]], strict: bool = False) -> bool:
    """Whether these results fail a build: any error, or under `strict` any finding at all."""
    return any(f.error or strict for findings in results.values() for f in findings)
