// DGX-Pixels frontend extension: colours our nodes so they stand out in a graph.
import { app } from "../../scripts/app.js";

const NODE_PREFIX = "DGXPixels";

app.registerExtension({
  name: "DGXPixels.Appearance",
  setup() {
    window.__dgxPixelsLoaded = true; // lets tests (and users in the console) see the extension is live
  },
  nodeCreated(node) {
    if (node.comfyClass?.startsWith(NODE_PREFIX)) {
      node.color = "#2b3a55";
      node.bgcolor = "#1d2738";
    }
  },
});
