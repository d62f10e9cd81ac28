"""Sprite sheets and tilesets: frame tags, aligning frames, assembling and slicing sheets, tileset layout."""
