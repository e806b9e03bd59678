"""The command line: parses, calls one stage, prints its result.

In: arguments.
Out: lines on the terminal and an exit status.
"""
