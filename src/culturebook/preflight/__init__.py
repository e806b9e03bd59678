"""Preflight: every PDF checked against what its kind of document must be.

In: PDF bytes and what is expected of them (`Expect`).
Out: findings (errors and warnings) and the preflight.json reports.
"""
