"""Subcommands of ``dgx-pixels``; each module has ``register(subparsers)``."""
