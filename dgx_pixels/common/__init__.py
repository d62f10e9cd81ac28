"""What every domain shares: the user-input error, atomic file writes and size parsing."""
