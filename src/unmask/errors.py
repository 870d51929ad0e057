"""Errors that the CLI turns into clear messages and a non-zero exit."""


class UnmaskError(Exception):
    """Base class for errors a user can act on."""


class InputError(UnmaskError):
    """An input file cannot be read; names the file, and row and column where known."""

    def __init__(self, message, file=None, row=None, column=None):
        where = ", ".join(
            f"{k} {v}" for k, v in (("file", file), ("row", row), ("column", column)) if v is not None
        )
        super().__init__(f"{message} ({where})" if where else message)
        self.file, self.row, self.column = file, row, column


class SchemaVersionError(UnmaskError):
    """The case was written by another schema version."""


class ParameterError(UnmaskError):
    """A parameter is unknown or out of range."""
