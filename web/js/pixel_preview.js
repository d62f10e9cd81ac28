// Zoomable nearest-neighbour preview with the detected grid, confidence and a before/after toggle,
// for the grid and downscale nodes. Data arrives in the node's ui output as `dgx_pixel_preview`.
import { app } from "../../scripts/app.js";
import { domWidget, drawCheckerboard, element, loadImage, onNodeExecuted, pixelCanvas, NODE_PREFIX } from "./common.js";

const NODES = new Set([`${NODE_PREFIX}DetectPixelGrid`, `${NODE_PREFIX}PixelPerfectDownscale`]);

function buildPreview(root) {
  const state = { zoom: 0, showGrid: true, showAfter: true, data: null, before: null, after: null };
  const label = element("span", { className: "dgx-label" });
  const zoomOut = element("button", { textContent: "−", title: "Zoom out" });
  const zoomIn = element("button", { textContent: "+", title: "Zoom in (whole steps, no smoothing)" });
  const zoomLabel = element("span");
  const gridToggle = element("button", { textContent: "grid", title: "Show the detected pixel grid", className: "on" });
  const afterToggle = element("button", { textContent: "after", title: "Switch between the input and the result" });
  const canvas = pixelCanvas("dgx-pixel-canvas");
  const view = element("div", { className: "dgx-view" }, [canvas]);
  root.append(element("div", { className: "dgx-bar" }, [zoomOut, zoomIn, zoomLabel, gridToggle, afterToggle, label]), view);

  state.render = () => {
    const image = state.showAfter ? state.after ?? state.before : state.before;
    if (!image) return;
    if (!state.zoom) state.zoom = Math.max(1, Math.floor(Math.min(280 / image.width, 280 / image.height)));
    const z = state.zoom;
    canvas.width = image.width * z;
    canvas.height = image.height * z;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    drawCheckerboard(ctx, canvas.width, canvas.height, Math.max(4, z)); // shows where alpha is
    ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    const grid = state.data?.grid;
    if (state.showGrid && grid?.cuts_x?.length) {
      // Cuts are in input pixels; on the result every cell is one pixel.
      const sx = state.showAfter && state.after ? state.after.width / grid.input_size[0] : 1;
      const sy = state.showAfter && state.after ? state.after.height / grid.input_size[1] : 1;
      ctx.strokeStyle = "rgba(255, 60, 200, 0.75)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (const x of grid.cuts_x) { const px = Math.round(x * sx * z) + 0.5; ctx.moveTo(px, 0); ctx.lineTo(px, canvas.height); }
      for (const y of grid.cuts_y) { const py = Math.round(y * sy * z) + 0.5; ctx.moveTo(0, py); ctx.lineTo(canvas.width, py); }
      ctx.stroke();
    }
    zoomLabel.textContent = `${z}x`;
    afterToggle.textContent = state.showAfter && state.after ? "after" : "before";
  };
  zoomIn.onclick = () => { state.zoom = Math.min(64, state.zoom + 1); state.render(); };
  zoomOut.onclick = () => { state.zoom = Math.max(1, state.zoom - 1); state.render(); };
  gridToggle.onclick = () => { state.showGrid = !state.showGrid; gridToggle.classList.toggle("on", state.showGrid); state.render(); };
  afterToggle.onclick = () => { state.showAfter = !state.showAfter; state.zoom = 0; state.render(); };
  state.show = async (data) => {
    state.data = data;
    state.before = data.before ? await loadImage(data.before) : null;
    state.after = data.after ? await loadImage(data.after) : null;
    const grid = data.grid;
    if (grid) {
      const warning = grid.confidence <= 0;
      label.className = warning ? "dgx-label dgx-warning" : "dgx-label";
      label.textContent = warning
        ? "no pixel grid found: passed through"
        : `${grid.native[0]}×${grid.native[1]} px, cell ${grid.cell_size.toFixed(2)}, confidence ${(grid.confidence * 100).toFixed(0)}%`;
    }
    state.zoom = 0;
    state.render();
    root.dataset.ready = "1";
  };
  return state;
}

app.registerExtension({
  name: "DGXPixels.PixelPreview",
  beforeRegisterNodeDef(nodeType, nodeData) {
    if (!NODES.has(nodeData.name)) return;
    onNodeExecuted(nodeType, (node, message) => {
      const data = message?.dgx_pixel_preview?.[0];
      if (data) domWidget(node, "pixel_preview", buildPreview, 330).show(data);
    });
  },
});
