"""The base every hpmon package may import: text folding, script tables, time helpers.

It imports nothing of ours and nothing outside the standard library, so it sits below
every other layer (see the layout table in docs/design.md). One copy of each helper lives
here; a package that needs a variant passes a parameter rather than keeping its own copy.
"""
