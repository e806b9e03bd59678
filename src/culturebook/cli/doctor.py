"""`culturebook doctor`: what culturebook needs from this computer, found or missing, one line each.

It opens the libraries WeasyPrint opens (Pango and PangoFT2, HarfBuzz and its subsetter, fontconfig)
under the same names, with ctypes and without importing WeasyPrint, so that a missing library is a
line saying so rather than a crash; reads their versions from the libraries themselves; asks the
tools on PATH for theirs (Ghostscript for `culturebook proof`; Chromium, which no command needs);
reads the Python packages' versions from their metadata; and looks for the CJK fonts package. For
what is missing it prints the command that installs it here: apt-get on Debian and Ubuntu, dnf on
Fedora, Homebrew on macOS, MSYS2's pacman on Windows. Everything it looks at comes in through a
`System` (the kind of system, the library folders, PATH, the Python environment), so a test can point
it at an empty folder and read the lines a user without the library would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import util
from pathlib import Path
from typing import TYPE_CHECKING

import click

from culturebook.cli.output import out

if TYPE_CHECKING:
    from ctypes import CDLL

# The names WeasyPrint 70 tries for each library (weasyprint/text/ffi.py), in its order: Windows'
# DLL names, the bare names cffi hands to find_library, Linux's sonames, macOS's dylibs.
LIBRARIES = {
    "gobject": ("libgobject-2.0-0", "gobject-2.0-0", "gobject-2.0", "libgobject-2.0.so.0",
                "libgobject-2.0.0.dylib", "libgobject-2.0-0.dll"),
    "pango": ("libpango-1.0-0", "pango-1.0-0", "pango-1.0", "libpango-1.0.so.0",
              "libpango-1.0.dylib", "libpango-1.0-0.dll"),
    "pangoft2": ("libpangoft2-1.0-0", "pangoft2-1.0-0", "pangoft2-1.0", "libpangoft2-1.0.so.0",
                 "libpangoft2-1.0.dylib", "libpangoft2-1.0-0.dll"),
    "harfbuzz": ("libharfbuzz-0", "harfbuzz", "harfbuzz-0.0", "libharfbuzz.so.0",
                 "libharfbuzz.0.dylib", "libharfbuzz-0.dll"),
    "harfbuzz-subset": ("libharfbuzz-subset-0", "harfbuzz-subset", "harfbuzz-subset-0.0",
                        "libharfbuzz-subset.so.0", "libharfbuzz-subset.0.dylib",
                        "libharfbuzz-subset-0.dll"),
    "fontconfig": ("libfontconfig-1", "fontconfig-1", "fontconfig", "libfontconfig.so.1",
                   "libfontconfig.1.dylib", "libfontconfig-1.dll"),
}
PANGO_LEAST = (1, 44, 0)  # WeasyPrint 70's documented minimum
SUBSET_HARFBUZZ_LEAST = (4, 1, 0)  # below it WeasyPrint subsets with fontTools even with the library
PACKAGES = ("weasyprint", "pypdf", "pydyf", "fonttools", "pillow")
CJK = ("culturebook-fonts-cjk", "culturebook_fonts_cjk")  # distribution, module

# What installs each missing piece, by kind of system. Windows: the MSYS2 route WeasyPrint documents
# (its UCRT64 bin folder is one WeasyPrint looks in by default).
_MSYS = "in the MSYS2 UCRT64 shell: pacman -S mingw-w64-ucrt-x86_64-"
INSTALL = {
    "debian": {"pango": "apt-get install libpango-1.0-0 libpangoft2-1.0-0",
               "harfbuzz": "apt-get install libharfbuzz0b",
               "harfbuzz-subset": "apt-get install libharfbuzz-subset0",
               "fontconfig": "apt-get install fontconfig", "gs": "apt-get install ghostscript"},
    "fedora": {"pango": "dnf install pango", "harfbuzz": "dnf install harfbuzz",
               "harfbuzz-subset": "dnf install harfbuzz", "fontconfig": "dnf install fontconfig",
               "gs": "dnf install ghostscript"},
    "macos": {"pango": "brew install pango", "harfbuzz": "brew install harfbuzz",
              "harfbuzz-subset": "brew install harfbuzz", "fontconfig": "brew install fontconfig",
              "gs": "brew install ghostscript"},
    "windows": {"pango": _MSYS + "pango", "harfbuzz": _MSYS + "harfbuzz",
                "harfbuzz-subset": _MSYS + "harfbuzz", "fontconfig": _MSYS + "fontconfig",
                "gs": _MSYS + "ghostscript"},
}
GENERIC = {"pango": "Pango 1.44 or later", "harfbuzz": "HarfBuzz", "harfbuzz-subset": "HarfBuzz's "
           "libharfbuzz-subset", "fontconfig": "fontconfig", "gs": "Ghostscript"}


@dataclass(frozen=True)
class System:
    """Where doctor looks: the kind of system (debian, fedora, macos, windows or other), the folders
    libraries are opened from (None: the system's loader, as WeasyPrint does), PATH for the tools
    (None: this process's), Python's environment (whether pipx or uv made it) and
    interpreter, and whether commands run as root (then apt-get and dnf need no sudo)."""

    kind: str
    library_dirs: tuple[Path, ...] | None = None
    path: str | None = None
    prefix: str = sys.prefix
    python: str = sys.executable
    root: bool = False


@dataclass(frozen=True)
class Finding:
    """One line of the report: ok, warning (an optional piece), missing (a required one) or note."""

    level: str
    text: str

    @property
    def line(self) -> str:
        return f"{self.level}: {self.text}"


def detect_system(os_release: Path = Path("/etc/os-release"), name: str = sys.platform) -> System:
    """This computer: its kind from sys.platform and, on Linux, /etc/os-release (ID and ID_LIKE)."""
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if name == "darwin":
        return System("macos")
    if name.startswith("win"):
        return System("windows")
    try:
        fields = dict(line.split("=", 1) for line in os_release.read_text().splitlines() if "=" in line)
    except OSError:
        fields = {}
    ids = {fields.get("ID", "").strip('"')} | set(fields.get("ID_LIKE", "").strip('"').split())
    kind = "debian" if ids & {"debian", "ubuntu"} else "fedora" if ids & {"fedora", "rhel"} else "other"
    return System(kind, root=root)


def install_line(system: System, what: str) -> str:
    """The command that installs `what` (a key of INSTALL's tables) on this kind of system."""
    command = INSTALL.get(system.kind, {}).get(what)
    if command is None:
        return f"install {GENERIC[what]} with your system's package manager"
    if system.kind in ("debian", "fedora") and not system.root:
        command = "sudo " + command
    return f"install it: {command}"


def open_library(system: System, name: str) -> tuple[CDLL, str] | None:
    """The library `name` (a key of LIBRARIES) opened as WeasyPrint would, with the name it answered
    to; None when none of its names opens. With system.library_dirs, only files in those folders."""
    import ctypes.util

    names = LIBRARIES[name]
    if system.library_dirs is not None:
        candidates = [str(folder / n) for folder in system.library_dirs for n in names
                      if (folder / n).exists()]
    else:
        candidates = list(names)
        if not sys.platform.startswith("linux"):  # cffi's last resort; on Linux it runs gcc and ld
            found = ctypes.util.find_library(names[2])
            candidates += [found] if found else []
    for candidate in candidates:
        try:
            return ctypes.CDLL(candidate), Path(candidate).name
        except OSError:
            continue
    return None


def _file_name(system: System, name: str) -> str:
    """The file name of library `name` on this kind of system, for the line that says it is missing."""
    return LIBRARIES[name][{"windows": 5, "macos": 4}.get(system.kind, 3)]


def _text(library: CDLL, function: str) -> str:
    import ctypes

    call = getattr(library, function)
    call.restype = ctypes.c_char_p
    return call().decode()


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def check_libraries(system: System) -> list[Finding]:
    """Pango (and PangoFT2, GObject), HarfBuzz, HarfBuzz's subsetter and fontconfig: found, with
    their versions, or the command that installs them."""
    if system.kind == "windows" and hasattr(os, "add_dll_directory"):  # where WeasyPrint looks too
        folders = os.environ.get("WEASYPRINT_DLL_DIRECTORIES",
                                 "C:\\msys64\\ucrt64\\bin;C:\\msys64\\mingw64\\bin").split(";")
        for folder in folders:
            if os.path.isdir(folder):
                os.add_dll_directory(folder)
    found = {name: open_library(system, name) for name in LIBRARIES}
    findings = []
    pango, pangoft2 = found["pango"], found["pangoft2"]
    missing = [_file_name(system, n) for n in ("pango", "pangoft2", "gobject") if found[n] is None]
    least = ".".join(map(str, PANGO_LEAST))
    if pango is None or pangoft2 is None or missing:
        findings.append(Finding("missing", f"Pango: not found ({', '.join(missing)}); WeasyPrint needs "
                                f"Pango {least} or later; {install_line(system, 'pango')}"))
    else:
        version = _text(pango[0], "pango_version_string")
        if _version(version) < PANGO_LEAST:
            findings.append(Finding("missing", f"Pango {version} is too old: WeasyPrint needs {least} or "
                                    f"later; {install_line(system, 'pango')}"))
        else:
            findings.append(Finding("ok", f"Pango {version} ({pango[1]}, {pangoft2[1]})"))
    harfbuzz = found["harfbuzz"]
    hb_version = _text(harfbuzz[0], "hb_version_string") if harfbuzz else ""
    if harfbuzz is None:
        findings.append(Finding("missing", f"HarfBuzz: not found ({_file_name(system, 'harfbuzz')}); "
                                f"{install_line(system, 'harfbuzz')}"))
    else:
        findings.append(Finding("ok", f"HarfBuzz {hb_version} ({harfbuzz[1]})"))
    findings.append(_subsetter(system, found["harfbuzz-subset"], hb_version))
    fontconfig = found["fontconfig"]
    if fontconfig is None:
        findings.append(Finding("missing", f"fontconfig: not found ({_file_name(system, 'fontconfig')}); "
                                f"{install_line(system, 'fontconfig')}"))
    else:
        major, rest = divmod(fontconfig[0].FcGetVersion(), 10000)
        findings.append(Finding("ok", f"fontconfig {major}.{rest // 100}.{rest % 100} ({fontconfig[1]})"))
    return findings


def _subsetter(system: System, subset: tuple[CDLL, str] | None, hb_version: str) -> Finding:
    """HarfBuzz's subsetter: WeasyPrint cuts the fonts it embeds down to the glyphs used with it
    when it is there and HarfBuzz is 4.1 or later, with fontTools otherwise (10-20 times slower
    for a Chinese font's thousands of glyphs)."""
    slower = ("fonts are subset with fontTools instead, 10-20 times slower for the Chinese "
              "editions' fonts")
    if subset is None or not hasattr(subset[0], "hb_subset_or_fail"):
        return Finding("warning", f"HarfBuzz subsetter: not found ({_file_name(system, 'harfbuzz-subset')}): "
                       f"{slower}; {install_line(system, 'harfbuzz-subset')}")
    least = ".".join(map(str, SUBSET_HARFBUZZ_LEAST))
    if hb_version and _version(hb_version) < SUBSET_HARFBUZZ_LEAST:
        return Finding("warning", f"HarfBuzz subsetter: HarfBuzz {hb_version} is older than {least}: "
                       f"{slower}; {install_line(system, 'harfbuzz')}")
    return Finding("ok", f"HarfBuzz subsetter ({subset[1]}): the fonts in the PDFs are subset with it")


def check_python(system: System, version: Callable[[str], str] | None = None) -> list[Finding]:
    """Python and the packages culturebook renders with, with their versions (from `version`:
    by default, the packages' installed metadata)."""
    from importlib import metadata

    version = version or metadata.version
    findings = [Finding("ok", f"Python {'.'.join(map(str, sys.version_info[:3]))} ({sys.executable})")]
    found, missing = [], []
    for name in PACKAGES:
        try:
            found.append(f"{name} {version(name)}")
        except metadata.PackageNotFoundError:
            missing.append(name)
    if found:
        findings.append(Finding("ok", f"Python packages: {', '.join(found)}"))
    if missing:
        findings.append(Finding("missing", f"Python packages not installed: {', '.join(missing)}; "
                                f"install culturebook again: {_reinstall(system)}"))
    return findings


def _installer(system: System) -> str:
    """pipx, uv or pip: what made the environment culturebook runs in, from the file each of them
    leaves in the environments it makes."""
    prefix = Path(system.prefix)
    if (prefix / "pipx_metadata.json").is_file():
        return "pipx"
    if (prefix / "uv-receipt.toml").is_file():
        return "uv"
    return "pip"


def _reinstall(system: System) -> str:
    return {"pipx": "pipx reinstall culturebook", "uv": "uv tool install --reinstall culturebook"}.get(
        _installer(system), f"{system.python} -m pip install culturebook")


def check_cjk_fonts(system: System, find: Callable[[str], object] = util.find_spec,
                    version: Callable[[str], str] | None = None) -> Finding:
    """The CJK fonts package (optional: the Chinese editions' fonts, when a project has none)."""
    from importlib import metadata

    version = version or metadata.version
    distribution, module = CJK
    if find(module) is not None:
        try:
            return Finding("ok", f"CJK fonts: {distribution} {version(distribution)} (Chinese editions)")
        except metadata.PackageNotFoundError:
            return Finding("ok", f"CJK fonts: {module} (Chinese editions)")
    command = {"pipx": f"pipx inject culturebook {distribution}",
               "uv": f"uv tool install culturebook --with {distribution}"}.get(
        _installer(system), f"{system.python} -m pip install {distribution}")
    return Finding("warning", f"CJK fonts: {distribution} is not installed: Chinese editions need it "
                   f"unless the project's fonts/ has them; install it: {command}")


def _tool_version(program: str, run: Sequence[str]) -> str:
    try:
        said = subprocess.run([program, *run], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return said.strip().splitlines()[0] if said.strip() else ""


def check_tools(system: System) -> list[Finding]:
    """Ghostscript (culturebook proof draws with it) and Chromium (no command needs it: only the
    preview's browser test in culturebook's own test suite drives it)."""
    gs = shutil.which("gs", path=system.path)
    if gs is None:
        proof = Finding("warning", "Ghostscript (gs): not found on PATH: culturebook proof needs it, no "
                        f"other command does; {install_line(system, 'gs')}")
    else:
        proof = Finding("ok", f"Ghostscript {_tool_version(gs, ['--version'])} ({gs}): for culturebook proof")
    browser = next(filter(None, (shutil.which(name, path=system.path)
                                 for name in ("chromium", "chromium-browser"))), None)
    if browser is None:
        chromium = Finding("note", "Chromium: not found; no command needs it (the preview opens in "
                           "any browser; only culturebook's own test suite drives Chromium)")
    else:
        said = _tool_version(browser, ["--version"]).removeprefix("Chromium ").split(" ")[0]
        chromium = Finding("ok", f"Chromium {said} ({browser}): no command needs it; culturebook's "
                           "own test suite drives it")
    return [proof, chromium]


def diagnose(system: System) -> list[Finding]:
    """Every check, in the order doctor prints them."""
    return [*check_libraries(system), *check_python(system), check_cjk_fonts(system),
            *check_tools(system)]


def summary(findings: list[Finding]) -> tuple[str, int]:
    """The last line and the exit status: 1 when something required is missing."""
    missing = sum(f.level == "missing" for f in findings)
    warned = sum(f.level == "warning" for f in findings)
    warnings = f"{warned} warning{'s' if warned != 1 else ''}"
    if missing:
        return (f"culturebook cannot build here: {missing} required "
                f"{'piece is' if missing == 1 else 'pieces are'} missing ({warnings})"), 1
    return f"culturebook can build here ({warnings})", 0


@click.command("doctor")
def doctor_command() -> None:
    """Check what culturebook needs from this computer: Pango (1.44 or later), HarfBuzz and its
    subsetter, fontconfig, the Python packages, the CJK fonts package, Ghostscript (for proof).
    One line each, with its version or the command that installs it here. Exit status 1 when
    something required is missing; the optional pieces only warn."""
    findings = diagnose(detect_system())
    for finding in findings:
        out.print(finding.line, markup=False, crop=False)
    line, status = summary(findings)
    out.print(line, markup=False, crop=False)
    sys.exit(status)
