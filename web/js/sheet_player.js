// Sprite-sheet animation player for the sheet nodes: pick a tag, play/pause/step at the frames' own durations,
// forward or ping-pong, optional onion skin, checkerboard behind alpha. Data arrives as `dgx_sheet_player`.
import { app } from "../../scripts/app.js";
import { domWidget, drawCheckerboard, element, loadImage, onNodeExecuted, pixelCanvas, NODE_PREFIX } from "./common.js";

const NODES = new Set([`${NODE_PREFIX}AssembleSpriteSheet`, `${NODE_PREFIX}SliceSpriteSheet`, `${NODE_PREFIX}BevyExport`,
                       `${NODE_PREFIX}EngineExport`]);

function sequence(tag) {
  const frames = [];
  for (let i = tag.from; i <= tag.to; i++) frames.push(i);
  if (tag.direction === "reverse") frames.reverse();
  if (tag.direction === "pingpong" && frames.length > 2) frames.push(...frames.slice(1, -1).reverse());
  return frames;
}

function buildPlayer(root) {
  const state = { data: null, sheet: null, tag: null, order: [], position: 0, playing: true, onion: false, timer: null };
  const tagSelect = element("select", { title: "Animation tag" });
  const play = element("button", { textContent: "pause", title: "Play / pause" });
  const step = element("button", { textContent: "step", title: "Next frame" });
  const loop = element("select", { title: "Loop mode" }, ["forward", "pingpong"].map((m) => element("option", { value: m, textContent: m })));
  const onion = element("button", { textContent: "onion", title: "Show the previous frame faintly" });
  const info = element("span");
  const canvas = pixelCanvas("dgx-sheet-canvas");
  root.append(element("div", { className: "dgx-bar" }, [tagSelect, play, step, loop, onion, info]),
    element("div", { className: "dgx-view" }, [canvas]));

  const frameAt = (pos) => state.data.frames[state.order[pos % state.order.length]];
  state.draw = () => {
    if (!state.sheet || !state.order.length) return;
    const frame = frameAt(state.position);
    const zoom = Math.max(1, Math.floor(Math.min(260 / frame.w, 200 / frame.h)));
    canvas.width = frame.w * zoom;
    canvas.height = frame.h * zoom;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    drawCheckerboard(ctx, canvas.width, canvas.height, Math.max(4, zoom * 2));
    if (state.onion && state.order.length > 1) {
      const previous = frameAt(state.position + state.order.length - 1);
      ctx.globalAlpha = 0.3;
      ctx.drawImage(state.sheet, previous.x, previous.y, previous.w, previous.h, 0, 0, canvas.width, canvas.height);
      ctx.globalAlpha = 1;
    }
    ctx.drawImage(state.sheet, frame.x, frame.y, frame.w, frame.h, 0, 0, canvas.width, canvas.height);
    info.textContent = `frame ${state.order[state.position % state.order.length]} · ${frame.duration} ms`;
    root.dataset.frame = String(state.order[state.position % state.order.length]);
  };
  const schedule = () => {
    clearTimeout(state.timer);
    if (!state.playing || !state.order.length) return;
    state.timer = setTimeout(() => { state.position = (state.position + 1) % state.order.length; state.draw(); schedule(); },
      frameAt(state.position).duration || 100);
  };
  const selectTag = () => {
    const tag = state.data.tags.find((t) => t.name === tagSelect.value) ?? state.data.tags[0];
    state.tag = { ...tag, direction: loop.value === "pingpong" ? "pingpong" : tag.direction === "pingpong" ? "forward" : tag.direction };
    state.order = sequence(state.tag);
    state.position = 0;
    state.draw();
    schedule();
  };
  tagSelect.onchange = () => {
    const tag = state.data.tags.find((t) => t.name === tagSelect.value);
    loop.value = tag?.direction === "pingpong" ? "pingpong" : "forward";
    selectTag();
  };
  loop.onchange = selectTag;
  play.onclick = () => { state.playing = !state.playing; play.textContent = state.playing ? "pause" : "play"; schedule(); };
  step.onclick = () => { state.playing = false; play.textContent = "play"; state.position = (state.position + 1) % state.order.length; state.draw(); };
  onion.onclick = () => { state.onion = !state.onion; onion.classList.toggle("on", state.onion); state.draw(); };
  state.show = async (data) => {
    state.data = data;
    if (!data.tags?.length) data.tags = [{ name: "all", from: 0, to: data.frames.length - 1, direction: "forward" }];
    state.sheet = await loadImage(data.image);
    tagSelect.replaceChildren(...data.tags.map((t) => element("option", { value: t.name, textContent: `${t.name} (${t.to - t.from + 1})` })));
    loop.value = data.tags[0].direction === "pingpong" ? "pingpong" : "forward";
    selectTag();
    root.dataset.ready = "1";
  };
  state.stop = () => clearTimeout(state.timer);
  return state;
}

app.registerExtension({
  name: "DGXPixels.SheetPlayer",
  beforeRegisterNodeDef(nodeType, nodeData) {
    if (!NODES.has(nodeData.name)) return;
    onNodeExecuted(nodeType, (node, message) => {
      const data = message?.dgx_sheet_player?.[0];
      if (data) domWidget(node, "sheet_player", buildPlayer, 280).show(data);
    });
    const removed = nodeType.prototype.onRemoved;
    nodeType.prototype.onRemoved = function () {
      this.__dgxWidgets?.sheet_player?.state.stop();
      return removed?.apply(this, arguments);
    };
  },
});
