"""Errors raised for bad user input: they carry a message a user can act on, never a deep torch traceback."""


class InputError(ValueError):
    """An input (image, mask, palette, path, option) that the operation cannot use, with the reason."""
