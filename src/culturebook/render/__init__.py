"""Filling the layouts and laying them out.

In: an `Edition` and a `Brand` (culturebook.project).
Out: PDF bytes with their page count and fill, or problems (text out of its frame, lost words).
"""
