// Shared helpers for the DGX-Pixels widgets. Imports are relative so the pack works whatever its folder is called.
import { api } from "../../scripts/api.js";

export const NODE_PREFIX = "DGXPixels";

// URL of an image the backend saved ({filename, subfolder, type}), fetched through ComfyUI's /view.
export function viewUrl(item) {
  const query = new URLSearchParams({ filename: item.filename, subfolder: item.subfolder ?? "", type: item.type ?? "temp" });
  return api.apiURL(`/view?${query}`);
}

export function loadImage(item) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`could not load ${item.filename}`));
    img.src = viewUrl(item);
  });
}

export function element(tag, props = {}, children = []) {
  const el = Object.assign(document.createElement(tag), props);
  for (const child of children) el.append(child);
  return el;
}

// A canvas that never smooths: pixel art must stay crisp at every zoom.
export function pixelCanvas(className) {
  const canvas = element("canvas", { className });
  canvas.style.imageRendering = "pixelated";
  return canvas;
}

export function drawCheckerboard(ctx, width, height, cell = 8) {
  for (let y = 0; y < height; y += cell) {
    for (let x = 0; x < width; x += cell) {
      ctx.fillStyle = ((x + y) / cell) % 2 ? "#3a3a3a" : "#555555";
      ctx.fillRect(x, y, cell, cell);
    }
  }
}

// Calls `handler(node, message)` after our nodes named in `nodeNames` execute, keeping any previous onExecuted.
export function onNodeExecuted(nodeType, handler) {
  const previous = nodeType.prototype.onExecuted;
  nodeType.prototype.onExecuted = function (message) {
    previous?.apply(this, arguments);
    handler(this, message);
  };
}

// One DOM widget per node and name, created on first use.
export function domWidget(node, name, build, minHeight) {
  node.__dgxWidgets ??= {};
  if (!node.__dgxWidgets[name]) {
    const root = element("div", { className: `dgx-pixels-widget dgx-${name}` });
    const state = build(root);
    node.addDOMWidget(name, "dgx-pixels", root, { serialize: false, hideOnZoom: false, getMinHeight: () => minHeight });
    node.__dgxWidgets[name] = { root, state };
    // Grow the node so the new widget sits below the existing ones instead of over them.
    const size = node.computeSize();
    node.setSize([Math.max(node.size[0], size[0], 320), Math.max(node.size[1], size[1] + minHeight)]);
    node.setDirtyCanvas(true, true);
  }
  return node.__dgxWidgets[name].state;
}

export function injectStyle(id, css) {
  if (document.getElementById(id)) return;
  document.head.append(element("style", { id, textContent: css }));
}

injectStyle("dgx-pixels-style", `
.dgx-pixels-widget { display: flex; flex-direction: column; gap: 4px; font: 12px sans-serif; color: #ddd; }
.dgx-pixels-widget .dgx-bar { display: flex; gap: 4px; align-items: center; flex-wrap: wrap; }
.dgx-pixels-widget button, .dgx-pixels-widget select { background: #333; color: #ddd; border: 1px solid #555;
  border-radius: 3px; padding: 1px 6px; font-size: 12px; }
.dgx-pixels-widget button.on { background: #3f6fb5; }
.dgx-pixels-widget .dgx-view { overflow: auto; flex: 1; min-height: 0; background: #222; }
.dgx-pixels-widget canvas { display: block; }
.dgx-pixels-widget .dgx-warning { color: #f0b040; }
.dgx-swatches { display: grid; grid-template-columns: repeat(auto-fill, minmax(64px, 1fr)); gap: 3px; }
.dgx-swatch { height: 34px; border-radius: 3px; cursor: pointer; display: flex; align-items: flex-end;
  justify-content: center; font: 10px monospace; text-shadow: 0 0 2px #000, 0 0 2px #000; color: #fff; }
`);
