"""`culturebook doctor`: the lines it prints on this machine, and on machines without a library or tool.

A machine without Pango is made by pointing doctor's library lookup at a folder (an empty one, or one
holding links to some of this machine's libraries); a machine without Ghostscript by an empty PATH.
The versions doctor prints are compared with what dpkg, the tools and the packages' metadata say.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import culturebook
import culturebook.cli.doctor as doctor
from culturebook.cli.doctor import (
    LIBRARIES,
    System,
    check_cjk_fonts,
    check_libraries,
    check_python,
    check_tools,
    detect_system,
    diagnose,
    summary,
)
from projectkit import run_cli

PACKAGES = ("weasyprint", "pypdf", "pydyf", "fonttools", "pillow")
SRC = Path(culturebook.__file__).resolve().parent.parent


def debian_version(package: str) -> str:
    """The upstream version dpkg has installed for `package` (1.50.12+ds-1 -> 1.50.12)."""
    said = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True,
                          text=True, check=True).stdout
    return said.split(":")[-1].split("+")[0].split("-")[0]


def library_file(soname: str) -> Path:
    """Where this machine's dynamic loader finds `soname` (from ldconfig's cache)."""
    for line in subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout.splitlines():
        name, _, path = line.strip().partition(" => ")
        if name.split(" ")[0] == soname:
            return Path(path)
    raise AssertionError(f"{soname} is not in ldconfig's cache")


needs_debian = pytest.mark.skipif(shutil.which("dpkg-query") is None or not Path("/sbin/ldconfig").exists(),
                                  reason="compares with dpkg's versions and ldconfig's paths (Debian)")


@needs_debian
def test_on_this_machine_every_check_passes_with_the_versions_dpkg_and_the_tools_report():
    result = run_cli("doctor", cwd=Path.cwd())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    pango, harfbuzz = debian_version("libpango-1.0-0"), debian_version("libharfbuzz0b")
    gs = subprocess.run(["gs", "--version"], capture_output=True, text=True).stdout.strip()
    packages = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        f"ok: Pango {pango} (libpango-1.0.so.0, libpangoft2-1.0.so.0)",
        f"ok: HarfBuzz {harfbuzz} (libharfbuzz.so.0)",
        "ok: HarfBuzz subsetter (libharfbuzz-subset.so.0): the fonts in the PDFs are subset with it",
        f"ok: fontconfig {debian_version('libfontconfig1')} (libfontconfig.so.1)",
    ]
    assert lines[5] == f"ok: Python packages: {packages}"
    assert f"ok: Ghostscript {gs} ({shutil.which('gs')}): for culturebook proof" in lines
    assert [line.split(":")[0] for line in lines[:-1]].count("missing") == 0
    assert len(lines) == 10  # 4 libraries, Python, its packages, CJK fonts, Ghostscript, Chromium
    assert lines[-1] in ("culturebook can build here (0 warnings)", "culturebook can build here (1 warning)")


def test_without_ghostscript_on_path_proof_is_the_one_command_said_to_need_it(tmp_path):
    system = System("fedora", path=str(tmp_path))
    assert [f.line for f in check_tools(system)] == [
        "warning: Ghostscript (gs): not found on PATH: culturebook proof needs it, no other command "
        "does; install it: sudo dnf install ghostscript",
        "note: Chromium: not found; no command needs it (the preview opens in any browser; only "
        "culturebook's own test suite drives Chromium)",
    ]


@needs_debian
def test_the_command_with_an_empty_path_warns_about_ghostscript_and_still_exits_0(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path), "NO_COLOR": "1", "PYTHONPATH": str(SRC)}
    result = subprocess.run([sys.executable, "-m", "culturebook", "doctor"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    sudo = "" if os.geteuid() == 0 else "sudo "
    lines = result.stdout.splitlines()
    warned = sum(line.startswith("warning: ") for line in lines)  # the CJK fonts too, if not installed
    assert lines[-3:] == [
        "warning: Ghostscript (gs): not found on PATH: culturebook proof needs it, no other command "
        f"does; install it: {sudo}apt-get install ghostscript",
        "note: Chromium: not found; no command needs it (the preview opens in any browser; only "
        "culturebook's own test suite drives Chromium)",
        f"culturebook can build here ({warned} warning{'s' if warned != 1 else ''})",
    ]
    assert warned in (1, 2)


def test_a_machine_without_pango_harfbuzz_or_fontconfig_is_told_what_to_install_and_fails(tmp_path):
    system = System("debian", library_dirs=(tmp_path,), path=str(tmp_path))
    findings = check_libraries(system)
    assert [f.line for f in findings] == [
        "missing: Pango: not found (libpango-1.0.so.0, libpangoft2-1.0.so.0, libgobject-2.0.so.0); "
        "WeasyPrint needs Pango 1.44.0 or later; install it: sudo apt-get install libpango-1.0-0 "
        "libpangoft2-1.0-0",
        "missing: HarfBuzz: not found (libharfbuzz.so.0); install it: sudo apt-get install libharfbuzz0b",
        "warning: HarfBuzz subsetter: not found (libharfbuzz-subset.so.0): fonts are subset with "
        "fontTools instead, 10-20 times slower for the Chinese editions' fonts; install it: sudo "
        "apt-get install libharfbuzz-subset0",
        "missing: fontconfig: not found (libfontconfig.so.1); install it: sudo apt-get install fontconfig",
    ]
    everything = diagnose(system)
    assert summary(everything) == (
        f"culturebook cannot build here: 3 required pieces are missing "
        f"({sum(f.level == 'warning' for f in everything)} warnings)", 1)


@needs_debian
def test_without_the_subsetter_the_libraries_are_found_and_one_warning_says_how_to_get_it(tmp_path):
    for name in ("gobject", "pango", "pangoft2", "harfbuzz", "fontconfig"):  # not harfbuzz-subset
        soname = LIBRARIES[name][3]
        (tmp_path / soname).symlink_to(library_file(soname))
    for kind, file, command in (
            ("debian", "libharfbuzz-subset.so.0", "apt-get install libharfbuzz-subset0"),
            ("fedora", "libharfbuzz-subset.so.0", "dnf install harfbuzz"),
            ("macos", "libharfbuzz-subset.0.dylib", "brew install harfbuzz")):
        findings = check_libraries(System(kind, library_dirs=(tmp_path,), root=True))
        assert [f.level for f in findings] == ["ok", "ok", "warning", "ok"]
        assert findings[0].line == (f"ok: Pango {debian_version('libpango-1.0-0')} "
                                    "(libpango-1.0.so.0, libpangoft2-1.0.so.0)")
        assert findings[2].line == (
            f"warning: HarfBuzz subsetter: not found ({file}): fonts are subset with "
            f"fontTools instead, 10-20 times slower for the Chinese editions' fonts; install it: {command}")
        assert summary(findings) == ("culturebook can build here (1 warning)", 0)


@pytest.mark.parametrize(("os_release", "platform", "kind"), [
    ('ID=debian\nVERSION_ID="12"\n', "linux", "debian"),
    ('ID=ubuntu\nID_LIKE=debian\n', "linux", "debian"),
    ('ID=fedora\n', "linux", "fedora"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "linux", "fedora"),
    ('ID=arch\n', "linux", "other"),
    (None, "linux", "other"),
    (None, "darwin", "macos"),
    (None, "win32", "windows"),
])
def test_the_system_is_told_from_os_release_and_the_platform(tmp_path, os_release, platform, kind):
    release = tmp_path / "os-release"
    if os_release is not None:
        release.write_text(os_release)
    assert detect_system(release, platform).kind == kind


@pytest.mark.parametrize(("kind", "files", "line"), [
    ("debian", "libpango-1.0.so.0, libpangoft2-1.0.so.0, libgobject-2.0.so.0",
     "install it: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0"),
    ("fedora", "libpango-1.0.so.0, libpangoft2-1.0.so.0, libgobject-2.0.so.0",
     "install it: sudo dnf install pango"),
    ("macos", "libpango-1.0.dylib, libpangoft2-1.0.dylib, libgobject-2.0.0.dylib",
     "install it: brew install pango"),
    ("windows", "libpango-1.0-0.dll, libpangoft2-1.0-0.dll, libgobject-2.0-0.dll",
     "install it: in the MSYS2 UCRT64 shell: pacman -S mingw-w64-ucrt-x86_64-pango"),
    ("other", "libpango-1.0.so.0, libpangoft2-1.0.so.0, libgobject-2.0.so.0",
     "install Pango 1.44 or later with your system's package manager"),
])
def test_each_system_gets_its_own_file_names_and_install_command_for_pango(tmp_path, kind, files, line):
    pango = check_libraries(System(kind, library_dirs=(tmp_path,)))[0]
    assert pango.line == (f"missing: Pango: not found ({files}); WeasyPrint needs Pango 1.44.0 or "
                          f"later; {line}")


def environment(folder: Path, marker: str | None) -> str:
    """A Python environment's folder as pipx (pipx_metadata.json), uv (uv-receipt.toml) or pip
    (neither) leaves it."""
    folder.mkdir(parents=True)
    if marker:
        (folder / marker).write_text("{}")
    return str(folder)


def test_a_missing_python_package_is_required_and_the_way_back_depends_on_the_installer(tmp_path):
    def version(name: str) -> str:
        if name == "pypdf":
            raise metadata.PackageNotFoundError(name)
        return "1.0"

    for marker, command in (("pipx_metadata.json", "pipx reinstall culturebook"),
                            ("uv-receipt.toml", "uv tool install --reinstall culturebook"),
                            (None, "/srv/env/bin/python -m pip install culturebook")):
        prefix = environment(tmp_path / str(marker), marker)
        system = System("debian", prefix=prefix, python="/srv/env/bin/python")
        findings = check_python(system, version)
        assert [f.line for f in findings[1:]] == [
            "ok: Python packages: weasyprint 1.0, pydyf 1.0, fonttools 1.0, pillow 1.0",
            f"missing: Python packages not installed: pypdf; install culturebook again: {command}"]
        assert summary(findings)[1] == 1


def test_the_cjk_fonts_package_is_found_with_its_version_or_named_with_the_line_that_adds_it(
        tmp_path, monkeypatch):
    pipx = System("debian", prefix=environment(tmp_path / "pipx", "pipx_metadata.json"))
    def nowhere(module):  # an environment without the package (the dev venv has it, editable)
        return None

    assert check_cjk_fonts(pipx, nowhere).line == (
        "warning: CJK fonts: culturebook-fonts-cjk is not installed: Chinese editions need it unless "
        "the project's fonts/ has them; install it: pipx inject culturebook culturebook-fonts-cjk")
    uv = System("debian", prefix=environment(tmp_path / "uv", "uv-receipt.toml"))
    assert check_cjk_fonts(uv, nowhere).text.endswith("install it: uv tool install culturebook --with "
                                             "culturebook-fonts-cjk")
    # Installed: a package folder and its distribution's metadata on sys.path, as pip leaves them.
    site = tmp_path / "site-packages"
    (site / "culturebook_fonts_cjk").mkdir(parents=True)
    (site / "culturebook_fonts_cjk" / "__init__.py").write_text("")
    info = site / "culturebook_fonts_cjk-2.4.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: culturebook-fonts-cjk\nVersion: 2.4.0\n")
    monkeypatch.syspath_prepend(str(site))
    assert check_cjk_fonts(pipx).line == "ok: CJK fonts: culturebook-fonts-cjk 2.4.0 (Chinese editions)"
    assert summary([check_cjk_fonts(pipx)]) == ("culturebook can build here (0 warnings)", 0)


def test_a_pango_older_than_1_44_is_missing_and_an_old_harfbuzz_leaves_the_subsetter_unused(monkeypatch):
    # This machine's libraries, answering with older versions than they are.
    real = doctor._text
    old = {"pango_version_string": "1.42.4", "hb_version_string": "4.0.1"}
    monkeypatch.setattr(doctor, "_text", lambda lib, function: old.get(function) or real(lib, function))
    lines = [f.line for f in check_libraries(System("fedora"))]
    assert lines[0] == ("missing: Pango 1.42.4 is too old: WeasyPrint needs 1.44.0 or later; install it: "
                        "sudo dnf install pango")
    assert lines[1] == "ok: HarfBuzz 4.0.1 (libharfbuzz.so.0)"
    assert lines[2] == ("warning: HarfBuzz subsetter: HarfBuzz 4.0.1 is older than 4.1.0: fonts are subset "
                        "with fontTools instead, 10-20 times slower for the Chinese editions' fonts; "
                        "install it: sudo dnf install harfbuzz")
