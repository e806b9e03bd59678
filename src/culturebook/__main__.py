"""`python -m culturebook` runs the command line."""

from culturebook.cli.main import run

run()
