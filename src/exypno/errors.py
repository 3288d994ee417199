"""The one exception type for errors a user can cause.

The CLI catches it once and prints its message as a single line on stderr with exit code 2.
Anything else that escapes is a bug in Exypno, not in the input.
"""


class ExypnoError(Exception):
    """Bad input, a bad model file, an output we refuse to write: anything the user can fix."""
