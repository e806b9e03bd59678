"""The default theme's CMYK output profile: what it is, and that its recipe gives the same bytes."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO

PROFILE = REPO / "layouts" / "default" / "coated-fogra39-tac300.icc"


def test_the_shipped_profile_is_a_cmyk_output_profile_for_fogra39():
    from PIL import ImageCms

    profile = ImageCms.getOpenProfile(str(PROFILE))
    assert profile.profile.xcolor_space.strip() == "CMYK"
    assert profile.profile.device_class == "prtr"
    assert ImageCms.getProfileDescription(profile).strip() == "culturebook coated FOGRA39, TAC 300%"
    # paper white and solid cyan as the FOGRA39 data measured them (L*a*b*, D50): 95 0 -2, 55 -37 -50
    to_lab = ImageCms.buildTransform(profile, ImageCms.createProfile("LAB", 5000), "CMYK", "LAB",
                                     renderingIntent=ImageCms.Intent.ABSOLUTE_COLORIMETRIC)
    from PIL import Image

    patches = Image.frombytes("CMYK", (2, 1), bytes([0, 0, 0, 0, 255, 0, 0, 0]))
    lab = ImageCms.applyTransform(patches, to_lab)
    # Pillow's LAB: L scaled to 0-255, a and b offset by 128
    (paper, cyan) = [(lab_l * 100 / 255, a - 128, b - 128) for lab_l, a, b in
                     (lab.getpixel((x, 0)) for x in (0, 1))]
    assert [round(v) for v in paper] == [95, 0, -2]
    assert [abs(v - w) <= 1.5 for v, w in zip(cyan, (55, -37, -50), strict=True)] == [True] * 3


def test_its_licence_travels_with_it():
    licence = PROFILE.with_name("coated-fogra39-tac300.LICENCE.txt").read_text(encoding="utf-8")
    assert "License: Zlib" in licence and "FOGRA39L.ti3" in licence


@pytest.mark.slow
def test_the_recipe_rebuilds_the_profile_byte_for_byte():
    result = subprocess.run([sys.executable, str(REPO / "profiles" / "make-profile"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "rebuilt byte for byte" in result.stdout
