// DGX-Pixels frontend extension: colours our nodes so they stand out in a graph.
import { app } from "../../scripts/app.js";

const CATEGORY = "DGX-Pixels";

app.registerExtension({
  name: "DGXPixels.Appearance",
  nodeCreated(node) {
    if (node.constructor?.category?.startsWith(CATEGORY) || node.comfyClass?.startsWith("DGXPixels")) {
      node.color = "#2b3a55";
      node.bgcolor = "#1d2738";
    }
  },
});
