// Palette swatches with hex codes (click copies) and the colour count, for the palette nodes.
// Data arrives as `dgx_palette` in the node's ui output.
import { app } from "../../scripts/app.js";
import { domWidget, element, onNodeExecuted, NODE_PREFIX } from "./common.js";

const NODES = new Set(["ExtractPalette", "LoadPalette", "ApplyPalette", "PaletteSwap", "SavePalette", "ValidatePalette"]
  .map((name) => NODE_PREFIX + name));

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Plain-http pages have no clipboard API: fall back to a selected textarea.
    const area = element("textarea", { value: text });
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

function textColour(hex) {
  const n = parseInt(hex.slice(1), 16);
  return ((n >> 16) * 299 + ((n >> 8) & 255) * 587 + (n & 255) * 114) / 1000 > 140 ? "#000" : "#fff";
}

function buildSwatches(root) {
  const title = element("div", { className: "dgx-bar" });
  const grid = element("div", { className: "dgx-swatches" });
  const status = element("div");
  root.append(title, grid, status);
  return {
    show(data) {
      title.textContent = `${data.name} · ${data.colours.length} colour${data.colours.length === 1 ? "" : "s"}`;
      grid.replaceChildren(...data.colours.map((hex) => {
        const swatch = element("div", { className: "dgx-swatch", textContent: hex, title: `Click to copy ${hex}` });
        swatch.style.background = hex;
        swatch.style.color = textColour(hex);
        swatch.style.textShadow = "none";
        swatch.onclick = async () => { await copyText(hex); status.textContent = `copied ${hex}`; root.dataset.copied = hex; };
        return swatch;
      }));
      status.textContent = data.note ?? "";
      root.dataset.ready = "1";
    },
  };
}

app.registerExtension({
  name: "DGXPixels.PaletteSwatches",
  beforeRegisterNodeDef(nodeType, nodeData) {
    if (!NODES.has(nodeData.name)) return;
    onNodeExecuted(nodeType, (node, message) => {
      const data = message?.dgx_palette?.[0];
      if (data) domWidget(node, "palette_swatches", buildSwatches, 120).show(data);
    });
  },
});
