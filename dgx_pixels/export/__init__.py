"""Exports of sheets and tilesets: Bevy (RON sprite descriptions, atlas layout, bevy_asset_loader collection, .meta),
Aseprite JSON and Tiled .tsx, all written through safe_write (allowed roots, history, recovery)."""
