"""Errors the command line turns into exit codes."""


class InputError(ValueError):
    """Bad user input (scenario file, key, value, option): exit code 2, no traceback.

    The message is one paragraph that names the file, the key and what is allowed.
    """
