"""Command groups of the CLI, one module per area (alerts, digests, cases, web...).

Each module defines click commands or groups and is registered in ``hpmon.cli`` with one line,
so areas can grow without touching each other's code.
"""
