"""Noto Sans CJK SC for culturebook: the Chinese, Japanese and Korean faces the default theme names.

A companion package, apart from culturebook because the two faces are 32 MB, twenty times the rest
of the tool; a project with a Chinese (or Japanese, Korean) edition needs it. culturebook finds the
font files in this package's folder through the `culturebook.fonts` entry point, without importing
it; NotoSansCJKsc/OFL.txt is their licence.
"""

__version__ = "0.1.0"  # always culturebook's: they are released together
