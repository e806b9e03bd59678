"""Checks of a whole project before a build: content, theme, layouts, stylesheets, contrast.

In: a project folder.
Out: a `Checked` project, or every problem found at its place.
"""
