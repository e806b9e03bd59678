"""`python -m culturebook` runs the command line."""

from .cli import main

main()
