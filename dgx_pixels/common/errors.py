"""Errors raised for bad user input: they carry a message a user can act on, never a deep torch traceback."""


class InputError(ValueError):
    """An input (image, mask, palette, path, option) that the operation cannot use, with the reason."""


def describe_os_error(err: OSError) -> str:
    """``<file>: <reason>`` for a file the system refused (the reason in lower case), without a traceback."""
    reason = (err.strerror or str(err)).lower()
    names = [str(name) for name in (err.filename, err.filename2) if name is not None]
    return f"{' -> '.join(names)}: {reason}" if names else reason
