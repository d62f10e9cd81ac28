// Loads an exported Aseprite JSON the way a Phaser game does: the texture manager parses the atlas (array or hash)
// and the animation manager builds every tag with createFromAseprite, then the export's snippet sets the repeats.
// Usage: node phaser_load.cjs <phaser package folder> <sheet.json> <image width> <image height>
// Prints {frames: {name: {x, y, w, h, trimmed, spriteSourceSize...}}, animations: [...]} as JSON.
const fs = require('fs');
const path = require('path');

// Phaser detects the device when its modules load; these stand in for the browser objects it looks at.
globalThis.navigator ??= { userAgent: 'node', appVersion: '', platform: '' };
globalThis.window ??= globalThis;
const element = () => ({
    style: {}, setAttribute() {}, appendChild() {},
    getContext: () => ({ fillRect() {}, drawImage() {}, putImageData() {},
        getImageData: () => ({ data: new Uint8ClampedArray(4) }),
        createImageData: () => ({ data: new Uint8ClampedArray(4) }) }),
});
globalThis.document ??= { createElement: element, documentElement: { style: {} }, body: element() };
globalThis.Image ??= class {};
for (const name of ['HTMLCanvasElement', 'HTMLImageElement', 'HTMLVideoElement', 'WebGLTexture', 'ImageBitmap']) {
    globalThis[name] ??= class {};
}

const [packageFolder, jsonPath, width, height] = process.argv.slice(2);
const source = (module) => require(path.join(packageFolder, 'src', module));
const TextureManager = source('textures/TextureManager');
const AnimationManager = source('animations/AnimationManager');
const EventEmitter = source('events/EventEmitter');

const game = { config: {}, renderer: null, events: new EventEmitter(), cache: { json: new Map() } };
const textures = new TextureManager(game);
const anims = new AnimationManager(game);
anims.textureManager = textures;

const data = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
const image = { width: Number(width), height: Number(height), naturalWidth: Number(width), naturalHeight: Number(height) };
const texture = textures.addAtlas('sheet', image, data);
game.cache.json.set('sheet', data);
const created = anims.createFromAseprite('sheet');
for (const tag of game.cache.json.get('sheet').meta.frameTags) {  // the export's snippet, as it is
    anims.get(tag.name).repeat = tag.repeat ? Number(tag.repeat) - 1 : -1;
}

const frames = {};
for (const name of texture.getFrameNames()) {
    const frame = texture.get(name);
    frames[name] = { x: frame.cutX, y: frame.cutY, w: frame.cutWidth, h: frame.cutHeight, trimmed: frame.trimmed,
                     sourceWidth: frame.realWidth, sourceHeight: frame.realHeight,
                     trimX: frame.data.spriteSourceSize.x, trimY: frame.data.spriteSourceSize.y,
                     customPivot: frame.customPivot, pivotX: frame.pivotX, pivotY: frame.pivotY };
}
const animations = created.map((anim) => ({
    key: anim.key, yoyo: anim.yoyo, repeat: anim.repeat, duration: anim.duration,
    frames: anim.frames.map((f) => ({ frame: f.textureFrame, duration: f.duration })),
}));
process.stdout.write(JSON.stringify({ frames, animations }));
