"""Errors that reach the user as a clear message (exit code 2), never as a traceback."""


class UserError(Exception):
    """Bad input from the user: a scene file, a flag, a report. str(e) is shown as is."""

    exit_code = 2
