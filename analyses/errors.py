"""Errors that reach the user as one line and exit code 2 (see ``analyses.cli``)."""


class InputError(Exception):
    """Bad user input: a file, column, value or option that cannot be used.

    The message is shown to the user as a single line, so it must name the problem
    (file, column, value) and must not contain a newline.
    """

    exit_code = 2
