"""The command line: parses, calls one stage, prints its result.

In: arguments.
Out: lines on the terminal and an exit status.

A command is a short process that allocates a great many small objects (WeasyPrint's boxes,
tinycss2's tokens, the fonts' tables) and frees nearly all of them by reference counting. With
Python's default thresholds the cycle collector ran about 290 times in `culturebook build
posters` after one statement changed, walking every object the imports had made, for a sixth of
the command's time; collecting young objects every 10,000 allocations instead of every 700, and
the old ones a twentieth as often, runs it about 14 times and leaves memory as it was (docs/speed.md,
"The cycle collector"). It is set on import, before the command's own imports allocate.
"""

import gc

gc.set_threshold(10_000, 20, 20)
