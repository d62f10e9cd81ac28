"""Bevy export: a sheet or tileset into ``<project>/assets/<sprites|tilesets|items>/<name>/`` with everything a
Bevy 0.19 game (and Aseprite/Tiled-aware tools) needs, plus a copy-paste Rust snippet.

Files (``<name>`` = the asset name):
- ``<name>.png``: the sheet, indexed when it can be, optimised, no metadata.
- ``<name>.sprite.ron``: the sprite description: grid (tile_size, columns, rows, padding, offset), pivot and Bevy
  anchor, animations {first, last, frame_ms, direction, pivot, indices (play order source), durations_ms}, and when
  the frames have them, per animation frame ``sockets`` {name: (x, y)} and ``hitboxes`` {name: (x, y, w, h)} in
  cell pixels (x right, y down from the cell's top-left corner).
- ``<name>.atlas.ron``: ``TextureAtlasLayout`` in its serde shape (size + texture rects), for serde loaders.
- ``<name>.json``: Aseprite's array form (frames, frameTags, the pivot as a slice).
- ``<name>.assets.ron``: a bevy_asset_loader dynamic collection (``<name>.image`` with ``sampler: Nearest``,
  ``<name>.layout`` as a grid) for grid sheets.
- ``<name>.png.meta``: nearest sampling for this image alone (Bevy's own example meta file), optional.
- tilesets also: ``<name>.tsx`` (Tiled) and ``<name>.tileset.json`` (seams, autotile masks).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..common.errors import InputError
from ..common.files import read_limited
from ..image.png import png_bytes
from ..sheets.layout import Rect, SheetLayout
from . import ron
from .aseprite import aseprite_array
from .paths import check_name
from .place import AssetPlace, check_kind, sheet_pixels
from .tiled import tileset_json, tileset_tsx

# Bevy's examples/asset/files/bevy_pixel_dark_with_meta.png.meta, identical from Bevy 0.16 to 0.19: the
# ImageLoader settings with every filter Nearest (a .meta file must spell out every field), byte for byte.
PNG_META = """(
    meta_format_version: "1.0",
    asset: Load(
        loader: "bevy_image::image_loader::ImageLoader",
        settings: (
            format: FromExtension,
            is_srgb: true,
            sampler: Descriptor (ImageSamplerDescriptor(
                address_mode_u: ClampToEdge,
                address_mode_v: ClampToEdge,
                address_mode_w: ClampToEdge,
                mag_filter: Nearest,
                min_filter: Nearest,
                mipmap_filter: Nearest,
                lod_min_clamp: 0,
                lod_max_clamp: 32.0,
                compare: None,
                anisotropy_clamp: 1,
                border_color: None,
                label: None,
            )),
            asset_usage: RenderAssetUsages("RENDER_WORLD | MAIN_WORLD"),
        ),
    ),
)"""
BEVY_VERSION = "0.19"
CARGO_LIMIT = 1 << 20  # a Cargo.toml is a few KB; a FIFO or /dev/zero planted under that name is refused


def cargo_depends_on_bevy(text: str, where: str = "Cargo.toml") -> bool:
    """Whether a Cargo.toml lists bevy in any dependency table (also workspace and target tables, or renamed)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: a line scan of the dependency tables is enough to recognise bevy
        return _scan_for_bevy(text)
    try:
        manifest = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{where} is not valid TOML ({err})") from None
    tables = [_table(manifest, key) for key in ("dependencies", "dev-dependencies", "build-dependencies")]
    tables.append(_table(_table(manifest, "workspace"), "dependencies"))
    for target in _table(manifest, "target").values():
        tables += [_table(target, key) for key in ("dependencies", "dev-dependencies")]
    for table in tables:
        for key, spec in table.items():
            if key == "bevy" or (isinstance(spec, dict) and spec.get("package") == "bevy"):
                return True
    return False


def _table(parent, key: str) -> dict:
    """``parent[key]`` when both are TOML tables, else an empty one (a Cargo.toml of another shape lists nothing)."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def _scan_for_bevy(text: str) -> bool:
    section = ""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[]").strip()
            if re.fullmatch(r"(.*\.)?(dev-|build-)?dependencies\.bevy", section):
                return True
        elif "dependencies" in section and re.match(r"^bevy\s*=", line):
            return True
        elif "dependencies" in section and re.search(r"package\s*=\s*\"bevy\"", line):
            return True
    return False


def find_bevy_project(start: Path, roots: list[Path]) -> Path:
    """The nearest folder from ``start`` upwards (inside its export root) whose Cargo.toml depends on bevy."""
    if not start.is_dir():
        raise InputError(f"{str(start)!r} is not a folder; give the Bevy project folder (the one with Cargo.toml)")
    root = next((r.resolve() for r in roots if start == r.resolve() or r.resolve() in start.parents), None)
    seen = []
    for folder in [start, *start.parents]:
        cargo = folder / "Cargo.toml"
        if cargo.is_file():
            text = read_limited(cargo, CARGO_LIMIT, "Cargo.toml").decode(errors="replace")
            if cargo_depends_on_bevy(text, str(cargo)):
                return folder
            seen.append(str(cargo))
        if root is None or folder == root:
            break
    found = f"; {', '.join(seen)} does not depend on bevy" if seen else ""
    raise InputError(f"no Bevy project at {str(start)!r}: no Cargo.toml with a bevy dependency there or above it "
                     f"inside the export root{found}. Point the export at your game's folder, or turn off "
                     "'must be a Bevy project' to write into a plain folder")


def _urect(rect: Rect) -> ron.Struct:
    return ron.Struct({"min": (rect.x, rect.y), "max": (rect.right, rect.bottom)})


def sprite_description(layout: SheetLayout, image: str) -> ron.Struct:
    animations = {}
    for animation in layout.animations:
        indices, durations = layout.atlas_indices(animation), layout.durations(animation)
        fields = {"first": indices[0], "last": indices[-1], "frame_ms": round(sum(durations) / len(durations)),
                  "direction": animation.loop, "pivot": layout.pivot, "indices": indices, "durations_ms": durations}
        frames = layout.frames[animation.start:animation.end + 1]
        if any(frame.sockets or frame.hitboxes for frame in frames):
            fields["sockets"] = [{s.name: (s.x, s.y) for s in frame.sockets} for frame in frames]
            fields["hitboxes"] = [{b.name: (b.x, b.y, b.w, b.h) for b in frame.hitboxes} for frame in frames]
        animations[animation.name] = ron.Struct(fields)
    return ron.Struct({
        "image": image,
        "size": layout.size,
        "tile_size": layout.cell,
        "columns": layout.columns,
        "rows": layout.rows,
        "padding": (layout.padding, layout.padding),
        "offset": (layout.offset, layout.offset),
        "grid": layout.grid,
        "pivot": layout.pivot,
        "anchor": layout.anchor(),
        "animations": animations,
        # trimmed sheets: per atlas index, the stored pixels' place inside the cell and the anchor that keeps
        # the pivot still
        "trims": [(t.x, t.y, t.w, t.h) for t in _trims(layout)] if layout.trimmed else [],
        "anchors": [layout.anchor(t) for t in _trims(layout)] if layout.trimmed else [],
    })


def _trims(layout: SheetLayout) -> list[Rect]:
    trims = [Rect(0, 0, *layout.cell)] * len(layout.rects)
    for frame in layout.frames:
        trims[frame.index] = frame.trim
    return trims


def atlas_layout(layout: SheetLayout) -> ron.Struct:
    """``TextureAtlasLayout`` as serde writes it; size is the real image size (from_grid's own leaves out the
    offset, and rendering uses the image size anyway)."""
    return ron.Struct({"size": layout.size, "textures": [_urect(rect) for rect in layout.rects]})


def asset_collection(layout: SheetLayout, name: str, image_path: str) -> ron.Call:
    """bevy_asset_loader's ``StandardDynamicAssetCollection`` file (its RON names, deny_unknown_fields)."""
    entries = {f"{name}.image": ron.Struct({"path": image_path, "sampler": ron.Ident("Nearest")}, "Image")}
    if layout.grid:
        grid = {"tile_size_x": layout.cell[0], "tile_size_y": layout.cell[1], "columns": layout.columns,
                "rows": layout.rows}
        if layout.padding:
            grid.update(padding_x=layout.padding, padding_y=layout.padding)
        if layout.offset:
            grid.update(offset_x=layout.offset, offset_y=layout.offset)
        entries[f"{name}.layout"] = ron.Struct(grid, "TextureAtlasLayout")
    return ron.Call("", (entries,))


def bevy_files(layout: SheetLayout, name: str, kind: str, png_meta: bool = True) -> dict[str, bytes]:
    """Every file of the export but the image, by file name."""
    image = f"{name}.png"
    image_path = f"{kind}/{name}/{image}"
    files = {
        f"{name}.sprite.ron": ron.dumps(sprite_description(layout, image)).encode(),
        f"{name}.atlas.ron": ron.dumps(atlas_layout(layout)).encode(),
        f"{name}.json": (json.dumps(aseprite_array(layout, image, name), indent=1) + "\n").encode(),
        f"{name}.assets.ron": ron.dumps(asset_collection(layout, name, image_path)).encode(),
    }
    if png_meta:
        files[f"{image}.meta"] = PNG_META.encode()
    if layout.kind == "tilesets":
        files[f"{name}.tsx"] = tileset_tsx(layout, name, image).encode()
        files[f"{name}.tileset.json"] = (json.dumps(tileset_json(layout, name, image), indent=1) + "\n").encode()
    return files


def render_files(sheet, layout: SheetLayout, name: str, kind: str | None = None,
                 png_meta: bool = True) -> dict[str, bytes]:
    """Every exported file's bytes, by file name (nothing is written)."""
    check_name(name)
    kind = check_kind(kind or layout.kind)
    return {f"{name}.png": png_bytes(sheet_pixels(sheet, layout)), **bevy_files(layout, name, kind, png_meta)}


def bevy_target_files(place: AssetPlace, layout: SheetLayout, options) -> dict[str, bytes]:
    return bevy_files(layout, place.name, place.kind, options.png_meta)


def bevy_target_snippet(place: AssetPlace, layout: SheetLayout, options) -> str:
    return rust_snippet(layout, place.name, bevy_asset_path(place))


def bevy_asset_path(place: AssetPlace) -> str:
    """The image as the game loads it, relative to assets/."""
    return f"{place.kind}/{place.name}/{place.image}"


def _ident(text: str) -> str:
    ident = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return ident if ident[:1].isalpha() else f"sprite_{ident}"


def _float(value: float) -> str:
    text = f"{value:.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def rust_snippet(layout: SheetLayout, name: str, image_path: str) -> str:
    """Bevy 0.19 code that shows the sprite and plays its animations (from_grid is unchanged since 0.14)."""
    const = _ident(name).upper()
    fn = _ident(name).lower()
    cell_w, cell_h = layout.cell
    lines = [
        f"// {image_path}: spawn it and play it (Bevy {BEVY_VERSION}). In main():",
        "//     .add_plugins(DefaultPlugins.set(ImagePlugin::default_nearest()))",
        f"//     .add_systems(Startup, spawn_{fn}).add_systems(Update, play_sprite_animations)",
        "use std::time::Duration;",
        "",
        "use bevy::prelude::*;",
        "use bevy::sprite::Anchor;",
        "",
    ]
    if layout.trimmed:
        rects = ", ".join(f"({r.x}, {r.y}, {r.right}, {r.bottom})" for r in layout.rects)
        anchors = ", ".join(f"({_float(x)}, {_float(y)})" for x, y in (layout.anchor(t) for t in _trims(layout)))
        lines += [
            "/// Trimmed frames: each rectangle (x0, y0, x1, y1), and the anchor that keeps the pivot still.",
            f"const {const}_RECTS: &[(u32, u32, u32, u32)] = &[{rects}];",
            f"const {const}_ANCHORS: &[(f32, f32)] = &[{anchors}];",
            "",
        ]
    animations = layout.animations
    for animation in animations:
        order = layout.play_order(animation)
        durations = dict(zip(layout.atlas_indices(animation), layout.durations(animation)))
        frames = ", ".join(f"({index}, {durations[index]})" for index in order)
        lines.append(f"/// \"{animation.name}\": (atlas index, milliseconds) in play order, {animation.loop}.")
        lines.append("#[allow(dead_code)]")
        lines.append(f"const {const}_{_ident(animation.name).upper()}: &[(usize, u64)] = &[{frames}];")
    if not animations:
        frames = ", ".join(f"({frame.index}, {frame.duration_ms})" for frame in layout.frames)
        lines.append("/// Every frame: (atlas index, milliseconds).")
        lines.append(f"const {const}_FRAMES: &[(usize, u64)] = &[{frames}];")
    first = animations[0] if animations else None
    first_const = f"{const}_{_ident(first.name).upper()}" if first else f"{const}_FRAMES"
    looping = "false" if first and first.loop == "once" else "true"
    if layout.grid:
        padding = f"Some(UVec2::splat({layout.padding}))" if layout.padding else "None"
        offset = f"Some(UVec2::splat({layout.offset}))" if layout.offset else "None"
        make_layout = [
            "    let layout = layouts.add(TextureAtlasLayout::from_grid(",
            f"        UVec2::new({cell_w}, {cell_h}), {layout.columns}, {layout.rows}, {padding}, {offset},",
            "    ));",
        ]
    else:
        make_layout = [
            f"    let mut atlas = TextureAtlasLayout::new_empty(UVec2::new({layout.size[0]}, {layout.size[1]}));",
            f"    for &(x0, y0, x1, y1) in {const}_RECTS {{",
            "        atlas.add_texture(URect::new(x0, y0, x1, y1));",
            "    }",
            "    let layout = layouts.add(atlas);",
        ]
    anchor_x, anchor_y = layout.anchor(_trims(layout)[0] if layout.trimmed else None)
    anchor_line = (f"        Anchor(Vec2::new({_float(anchor_x)}, {_float(anchor_y)})), "
                   "// the pivot (feet) stands on the entity's position")
    lines += [
        "",
        "#[derive(Component)]",
        "struct SpriteAnimation {",
        "    frames: &'static [(usize, u64)],",
        "    looping: bool,",
        "    position: usize,",
        "    timer: Timer,",
        "}",
        "",
        "impl SpriteAnimation {",
        "    fn new(frames: &'static [(usize, u64)], looping: bool) -> Self {",
        "        let timer = Timer::new(Duration::from_millis(frames[0].1), TimerMode::Once);",
        "        Self { frames, looping, position: 0, timer }",
        "    }",
        "}",
        "",
        f"fn spawn_{fn}(",
        "    mut commands: Commands,",
        "    asset_server: Res<AssetServer>,",
        "    mut layouts: ResMut<Assets<TextureAtlasLayout>>,",
        ") {",
        f"    let image = asset_server.load(\"{image_path}\");",
        *make_layout,
        f"    let animation = SpriteAnimation::new({first_const}, {looping});",
        "    commands.spawn((",
        "        Sprite::from_atlas_image(image, TextureAtlas { layout, index: animation.frames[0].0 }),",
        anchor_line,
        "        Transform::from_scale(Vec3::splat(4.0)),",
        "        animation,",
        "    ));",
        "}",
        "",
        "fn play_sprite_animations(",
        "    time: Res<Time>,",
        f"    mut sprites: Query<(&mut SpriteAnimation, &mut Sprite{', &mut Anchor' if layout.trimmed else ''})>,",
        ") {",
        f"    for (mut animation, mut sprite{', mut anchor' if layout.trimmed else ''}) in &mut sprites {{",
        "        animation.timer.tick(time.delta());",
        "        let last = animation.position + 1 == animation.frames.len();",
        "        if !animation.timer.just_finished() || (last && !animation.looping) {",
        "            continue;",
        "        }",
        "        animation.position = (animation.position + 1) % animation.frames.len();",
        "        let (index, milliseconds) = animation.frames[animation.position];",
        "        animation.timer = Timer::new(Duration::from_millis(milliseconds), TimerMode::Once);",
        "        if let Some(atlas) = &mut sprite.texture_atlas {",
        "            atlas.index = index;",
        "        }",
    ]
    if layout.trimmed:
        lines += [
            f"        let (x, y) = {const}_ANCHORS[index];",
            "        *anchor = Anchor(Vec2::new(x, y));",
        ]
    lines += ["    }", "}"]
    return "\n".join(lines) + "\n"
