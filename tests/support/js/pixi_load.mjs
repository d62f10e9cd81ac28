// Loads an exported sheet JSON the way a PixiJS 8 game does: the spritesheet loader's test, then Spritesheet
// parses frames and animations; each animation is played as the export's snippet does (frame durations, loops).
// Usage: node pixi_load.mjs <sheet.json> <image width> <image height>
import fs from 'node:fs';

globalThis.navigator ??= { userAgent: 'node' };  // PixiJS looks at the browser when it loads
const { AnimatedSprite, Spritesheet, Texture, TextureSource, spritesheetAsset } = await import('pixi.js');

const [jsonPath, width, height] = process.argv.slice(2);
const data = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
const recognised = await spritesheetAsset.loader.testParse(data, { src: jsonPath });
const texture = new Texture({ source: new TextureSource({ width: Number(width), height: Number(height) }) });
const sheet = new Spritesheet(texture, data);
await sheet.parse();

const rect = (r) => ({ x: r.x, y: r.y, w: r.width, h: r.height });
const textures = {};
for (const [name, t] of Object.entries(sheet.textures)) {
    textures[name] = { frame: rect(t.frame), orig: rect(t.orig), trim: t.trim ? rect(t.trim) : null,
                       anchor: t.defaultAnchor ? { x: t.defaultAnchor.x, y: t.defaultAnchor.y } : null };
}
const animations = {};
for (const name of Object.keys(sheet.animations)) {  // the export's snippet, as it is
    const keys = sheet.data.animations[name];
    const sprite = new AnimatedSprite(keys.map((key) => ({ texture: sheet.textures[key],
                                                             time: sheet.data.frames[key].duration })));
    const tag = (sheet.data.meta.frameTags || []).find((t) => t.name === name);
    sprite.loop = !(tag && tag.repeat);
    animations[name] = { keys, frames: sprite.totalFrames, loop: sprite.loop,
                         durations: sprite._durations, sameTextures: keys.every((k, i) => sprite.textures[i] === sheet.textures[k]) };
}
process.stdout.write(JSON.stringify({ recognised, textures, animations }));
