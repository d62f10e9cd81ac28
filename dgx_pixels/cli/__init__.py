"""The ``dgx-pixels`` command: its entry point, shared options and progress, and one module per command."""
