"""Training sets for LoRAs: pixel art prepared so a model learns clean pixels (see dataset.py)."""
