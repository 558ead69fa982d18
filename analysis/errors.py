"""The one exception type for unusable input.

Every loader raises InputError with a message that names the file and the
field, so that the command line can print it and exit 2 ("unusable input")
instead of a traceback, and so that nothing is silently skipped.
"""


class InputError(Exception):
    """A result file or setting is missing or malformed; the message says which and why."""
