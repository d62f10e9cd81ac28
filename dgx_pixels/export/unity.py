"""Unity: the sheet's ``<name>.png.meta``, the TextureImporter settings Unity reads when it
imports the image: a Sprite (2D and UI) texture in Sprite Mode Multiple with one sprite per frame (``<name>_<n>``,
its rectangle counted from the bottom-left as Unity does, a custom pivot), pixels per unit, Point filtering, no
mipmaps, no compression.

Sockets and hitboxes go into the importer's ``userData`` (AssetImporter.userData, read by editor scripts) as JSON:
per sprite name, sockets and hitboxes in Unity's sprite space (pixels from the pivot, y up; a socket at its pixel's
centre); a frame's ``body`` hitbox is also its sprite's custom physics shape, so a PolygonCollider2D added to the
sprite is that hurtbox.

Unity keeps references by the file's ``guid`` and each sprite's ``internalID``: a new export reuses the guid of the
.meta already there, and sprite ids are derived from the sprite names, so re-exports keep every reference.
"""
from __future__ import annotations

import hashlib
import json
import re

from ..sheets.layout import Rect, SheetLayout
from .place import AssetPlace

SERIALIZED_VERSION = 13  # the TextureImporter layout Unity 6 writes (with mipmapLimitGroupName, from 2022.2)
GUID = re.compile(rb"^guid: ([0-9a-f]{32})\s*$", re.MULTILINE)
BODY_HITBOX = "body"


def _digest(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _number(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(round(float(number), 6))


def sprite_name(name: str, position: int) -> str:
    return f"{name}_{position}"


def internal_id(name: str) -> int:
    """A sprite's fileID, the same for the same sprite name on every export (positive, below 2**60)."""
    return int(_digest(f"sprite:{name}")[:15], 16)


def unity_rect(layout: SheetLayout, rect: Rect) -> tuple[int, int, int, int]:
    """A sheet rectangle as Unity keeps it: x from the left, y from the bottom."""
    return rect.x, layout.size[1] - rect.bottom, rect.w, rect.h


def sprite_space(trim: Rect, x: float, y: float) -> tuple[float, float]:
    """A cell point -> pixels from the stored rectangle's centre, y up (physics shapes and outlines)."""
    return x - trim.x - trim.w / 2, trim.h / 2 - (y - trim.y)


def pivot_space(layout: SheetLayout, x: float, y: float) -> tuple[float, float]:
    """A cell point -> pixels from the pivot, y up (where a child object goes, times 1 / pixels per unit)."""
    return x - layout.pivot[0], layout.pivot[1] - y


def marks_data(layout: SheetLayout, name: str) -> dict:
    data = {}
    for position, frame in enumerate(layout.frames):
        if frame.sockets or frame.hitboxes:
            data[sprite_name(name, position)] = {
                "sockets": {s.name: list(pivot_space(layout, s.x + 0.5, s.y + 0.5)) for s in frame.sockets},
                "hitboxes": {b.name: [*pivot_space(layout, b.x, b.bottom), b.w, b.h] for b in frame.hitboxes}}
    return data


def _sprite(layout: SheetLayout, name: str, position: int) -> list[str]:
    frame = layout.frames[position]
    rect, trim = layout.rects[frame.index], frame.trim
    x, y, w, h = unity_rect(layout, rect)
    pivot_x = (layout.pivot[0] - trim.x) / trim.w
    pivot_y = 1 - (layout.pivot[1] - trim.y) / trim.h
    sprite = sprite_name(name, position)
    lines = ["    - serializedVersion: 2", f"      name: {sprite}", "      rect:", "        serializedVersion: 2",
             f"        x: {x}", f"        y: {y}", f"        width: {w}", f"        height: {h}",
             "      alignment: 9", f"      pivot: {{x: {_number(pivot_x)}, y: {_number(pivot_y)}}}",
             "      border: {x: 0, y: 0, z: 0, w: 0}", "      customData: ", "      outline: []"]
    body = next((box for box in frame.hitboxes if box.name == BODY_HITBOX), None)
    if body is None:
        lines.append("      physicsShape: []")
    else:
        corners = [(body.x, body.y), (body.x, body.bottom), (body.right, body.bottom), (body.right, body.y)]
        points = [sprite_space(trim, cx, cy) for cx, cy in corners]
        lines.append("      physicsShape:")
        lines += [("      - - " if number == 0 else "        - ") + f"{{x: {_number(px)}, y: {_number(py)}}}"
                  for number, (px, py) in enumerate(points)]
    lines += ["      tessellationDetail: -1", "      bones: []", f"      spriteID: {_digest(f'id:{sprite}')}",
              f"      internalID: {internal_id(sprite)}", "      vertices: []", "      indices: ", "      edges: []",
              "      weights: []"]
    return lines


def texture_meta(layout: SheetLayout, name: str, guid: str, pixels_per_unit: int) -> str:
    ppu = pixels_per_unit or layout.cell[1]
    names = [sprite_name(name, position) for position in range(len(layout.frames))]
    marks = marks_data(layout, name)
    lines = [
        "fileFormatVersion: 2", f"guid: {guid}", "TextureImporter:", "  internalIDToNameTable: []",
        "  externalObjects: {}", f"  serializedVersion: {SERIALIZED_VERSION}", "  mipmaps:", "    mipMapMode: 0",
        "    enableMipMap: 0", "    sRGBTexture: 1", "    linearTexture: 0", "    fadeOut: 0", "    borderMipMap: 0",
        "    mipMapsPreserveCoverage: 0", "    alphaTestReferenceValue: 0.5", "    mipMapFadeDistanceStart: 1",
        "    mipMapFadeDistanceEnd: 3", "  bumpmap:", "    convertToNormalMap: 0", "    externalNormalMap: 0",
        "    heightScale: 0.25", "    normalMapFilter: 0", "    flipGreenChannel: 0", "  isReadable: 0",
        "  streamingMipmaps: 0", "  streamingMipmapsPriority: 0", "  vTOnly: 0", "  ignoreMipmapLimit: 0",
        "  grayScaleToAlpha: 0", "  generateCubemap: 6", "  cubemapConvolution: 0", "  seamlessCubemap: 0",
        "  textureFormat: 1", "  maxTextureSize: 16384", "  textureSettings:", "    serializedVersion: 2",
        "    filterMode: 0", "    aniso: 1", "    mipBias: 0", "    wrapU: 1", "    wrapV: 1", "    wrapW: 1",
        "  nPOTScale: 0", "  lightmap: 0", "  compressionQuality: 50", "  spriteMode: 2", "  spriteExtrude: 1",
        "  spriteMeshType: 0", "  alignment: 9",
        f"  spritePivot: {{x: {_number(layout.pivot[0] / layout.cell[0])}, "
        f"y: {_number(1 - layout.pivot[1] / layout.cell[1])}}}",
        f"  spritePixelsToUnits: {ppu}", "  spriteBorder: {x: 0, y: 0, z: 0, w: 0}",
        "  spriteGenerateFallbackPhysicsShape: 1", "  alphaUsage: 1", "  alphaIsTransparency: 1",
        "  spriteTessellationDetail: -1", "  textureType: 8", "  textureShape: 1", "  singleChannelComponent: 0",
        "  flipbookRows: 1", "  flipbookColumns: 1", "  maxTextureSizeSet: 0", "  compressionQualitySet: 0",
        "  textureFormatSet: 0", "  ignorePngGamma: 0", "  applyGammaDecoding: 0", "  swizzle: 50462976",
        "  cookieLightType: 0", "  platformSettings:"]
    for target in ("DefaultTexturePlatform", "Standalone"):
        lines += [
            "  - serializedVersion: 4", f"    buildTarget: {target}", "    maxTextureSize: 16384",
            "    resizeAlgorithm: 0", "    textureFormat: -1", "    textureCompression: 0",
            "    compressionQuality: 50", "    crunchedCompression: 0", "    allowsAlphaSplitting: 0",
            "    overridden: 0", "    ignorePlatformSupport: 0", "    androidETC2FallbackOverride: 0",
            "    forceMaximumCompressionQuality_BC6H_BC7: 0"]
    lines += ["  spriteSheet:", "    serializedVersion: 2", "    sprites:"]
    for position in range(len(layout.frames)):
        lines += _sprite(layout, name, position)
    lines += ["    outline: []", "    customData: ", "    physicsShape: []", "    bones: []", "    spriteID: ",
              "    internalID: 0", "    vertices: []", "    indices: ", "    edges: []", "    weights: []",
              "    secondaryTextures: []", "    spriteCustomMetadata:", "      entries: []", "    nameFileIdTable:"]
    lines += [f"      {sprite}: {internal_id(sprite)}" for sprite in names]
    lines += ["  mipmapLimitGroupName: ", "  pSDRemoveMatte: 0",
              f"  userData: {_quoted(json.dumps(marks, separators=(',', ':'))) if marks else ''}",
              "  assetBundleName: ", "  assetBundleVariant: "]
    return "\n".join(lines) + "\n"


def unity_files(place: AssetPlace, layout: SheetLayout, options) -> dict[str, bytes]:
    meta = f"{place.image}.meta"
    previous = place.existing(meta)
    found = GUID.search(previous) if previous else None
    guid = found.group(1).decode() if found else _digest(f"guid:{place.asset}/{place.image}")
    return {meta: texture_meta(layout, place.name, guid, options.pixels_per_unit).encode()}


def unity_snippet(place: AssetPlace, layout: SheetLayout, options) -> str:
    path = place.path(place.image)
    count = len(layout.frames)
    return "\n".join([
        f"// {path}: {count} sprites ({place.name}_0 ... {place.name}_{count - 1}). Select them in the Project window",
        "// and drag them into the Scene to make an animation, or load them in code:",
        "using System.Linq;",
        "using UnityEditor;",
        "using UnityEngine;",
        "",
        f"var sprites = AssetDatabase.LoadAllAssetsAtPath(\"{path}\").OfType<Sprite>()",
        "    .OrderBy(s => int.Parse(s.name.Substring(s.name.LastIndexOf('_') + 1))).ToArray();",
        f"var marks = AssetImporter.GetAtPath(\"{path}\").userData;  // sockets and hitboxes, JSON per sprite",
        ""])
