"""The process kernel: processes, mailboxes, links, monitors, names, timers.

Nothing in here imports anything else from ``otp``; the behaviours are built
only from what this package exports (see ``otp.lowlevel`` for the hooks).
"""
