"""Consistent characters: frames drawn as strips (one image per animation and direction), an anchor reference kept
beside every strip, and the consistency scores that decide which strips to draw again."""
