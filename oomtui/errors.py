"""Errors that reach the user as a clear message (exit code 2), never as a traceback."""


class UserError(Exception):
    """Bad input from the user: a scene file, a flag, a report. str(e) is shown as is."""

    exit_code = 2


class FileError(UserError):
    """An error in a file the user wrote (a scene, the config): "FILE:LINE: message at key.path"."""

    def __init__(self, file: str, path: str | None, message: str, line: int | None = None):
        from .text import visible

        self.file, self.path, self.line, self.message = file, path, line, message
        where = file + (f":{line}" if line else "")
        key = f" at {path}" if path else ""
        # a message may quote the file's own text (a bad value, a key): shown, never obeyed
        super().__init__(visible(f"{where}: {message}{key}", multiline=True))
