"""Build a ComfyUI workflow once and write it in both formats: the editor (UI) format the template browser loads,
and the API format that ``/prompt`` takes. One source of truth, so the two cannot drift.

The UI format needs each node's definition (``/object_info``) to lay widgets out in order and to type sockets.
"""
from __future__ import annotations

from dataclasses import dataclass, field

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
COLUMN_WIDTH = 420  # leaves room for group padding between columns
ROW_GAP = 60  # a node's title bar and the frontend's badge sit above its position: keep them clear of the box above
GROUP_PADDING = 30
GROUP_TITLE_HEIGHT = 40
NOTE_HEIGHT = 120


def widget_specs(info: dict) -> dict[str, tuple]:
    """The widget inputs of a node definition from /object_info, in order: name -> (kind, options)."""
    spec = {**info["input"].get("required", {}), **info["input"].get("optional", {})}
    order = info.get("input_order", {})
    widgets = {}
    for name in order.get("required", []) + order.get("optional", []):
        kind = spec[name][0]
        options = spec[name][1] if len(spec[name]) > 1 else {}
        type_name = "COMBO" if isinstance(kind, list) else kind
        if type_name in WIDGET_TYPES and not options.get("forceInput"):
            widgets[name] = (kind, options)
    return widgets


def widget_default(kind, options: dict):
    """What a fresh widget holds: its default, else a combo's first choice."""
    if "default" in options:
        return options["default"]
    choices = kind if isinstance(kind, list) else options.get("options", [])
    return choices[0] if choices else ""


@dataclass(frozen=True)
class Link:
    node: "Node"
    slot: int


@dataclass(eq=False)
class Node:
    id: int
    class_type: str
    title: str
    inputs: dict = field(default_factory=dict)
    column: int | None = None
    # Bypassed (switched off in the editor, Ctrl+B): output slot -> the input whose source it passes through,
    # as ComfyUI's frontend does when it sends the graph.
    bypass: dict[int, str] | None = None

    def out(self, slot: int = 0) -> Link:
        return Link(self, slot)


@dataclass
class Group:
    title: str
    nodes: list[Node]
    color: str = "#3f789e"


@dataclass
class Note:
    text: str
    near: Node
    title: str = "Note"
    id: int = 0


class WorkflowGraph:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.groups: list[Group] = []
        self.notes: list[Note] = []

    def node(self, class_type: str, title: str | None = None, *, column: int | None = None,
             bypass: dict[int, str] | None = None, **inputs) -> Node:
        """Add a node; ``inputs`` are literals (widget values) or ``other.out(slot)`` links.

        ``bypass``: the node ships switched off; each output slot passes the named input's source through.
        """
        node = Node(len(self.nodes) + 1, class_type, title or class_type, dict(inputs), column, bypass)
        if any(n.title == node.title for n in self.nodes):
            raise ValueError(f"two nodes titled {node.title!r}: titles name parameters, so they must be unique")
        self.nodes.append(node)
        return node

    def group(self, title: str, nodes: list[Node], color: str = "#3f789e") -> None:
        self.groups.append(Group(title, nodes, color))

    def note(self, text: str, near: Node, title: str = "Note") -> None:
        self.notes.append(Note(text, near, title))

    def by_title(self, title: str) -> Node:
        for node in self.nodes:
            if node.title == title:
                return node
        raise KeyError(title)

    # ------------------------------------------------------------------ API format
    @staticmethod
    def _resolve(link: Link) -> Link:
        while link.node.bypass is not None:
            link = link.node.inputs[link.node.bypass[link.slot]]
        return link

    def to_api(self, object_info: dict | None = None) -> dict:
        """The API format; with ``object_info``, widgets left unset get their defaults written in, as the
        frontend sends them (ComfyUI requires every required input)."""
        prompt = {}
        for node in self.nodes:
            if node.bypass is not None:
                continue
            inputs = {}
            given = dict(node.inputs)
            if object_info is not None:
                for name, (kind, options) in widget_specs(object_info[node.class_type]).items():
                    given.setdefault(name, widget_default(kind, options))
            for name, value in given.items():
                if isinstance(value, Link):
                    value = self._resolve(value)
                    value = [str(value.node.id), value.slot]
                inputs[name] = value
            prompt[str(node.id)] = {"class_type": node.class_type, "inputs": inputs, "_meta": {"title": node.title}}
        return prompt

    # ------------------------------------------------------------------ UI format
    def _columns(self) -> dict[int, int]:
        """Column of each node: explicit, else one right of its deepest input."""
        column: dict[int, int] = {}

        def depth(node: Node) -> int:
            if node.id not in column:
                sources = [v.node for v in node.inputs.values() if isinstance(v, Link)]
                column[node.id] = node.column if node.column is not None else (
                    1 + max((depth(s) for s in sources), default=-1))
            return column[node.id]

        for node in self.nodes:
            depth(node)
        return column

    def to_ui(self, object_info: dict, widget_heights: dict[str, int] | None = None) -> dict:
        """``widget_heights``: extra height per node type for preview widgets the frontend adds after a run, so
        notes and nodes below are laid out clear of them."""
        missing = sorted({n.class_type for n in self.nodes if n.class_type not in object_info})
        if missing:
            raise ValueError(f"node types unknown to the server: {', '.join(missing)}")
        links: list[list] = []
        ui_nodes: list[dict] = []
        outputs_links: dict[tuple[int, int], list[int]] = {}
        columns = self._columns()
        next_y: dict[int, int] = {}
        positions: dict[int, tuple[int, int, int, int]] = {}
        note_positions: dict[int, tuple[int, int, int, int]] = {}

        for order, node in enumerate(self.nodes):
            info = object_info[node.class_type]
            spec = {**info["input"].get("required", {}), **info["input"].get("optional", {})}
            order_names = info.get("input_order", {})
            names = order_names.get("required", []) + order_names.get("optional", [])
            unknown = set(node.inputs) - set(names)
            if unknown:
                raise ValueError(f"{node.title} ({node.class_type}) has no input(s) {sorted(unknown)}")
            sockets, widgets = [], []
            required = len(order_names.get("required", []))
            # The frontend adds one upload button for the first required upload combo, after every required input.
            upload = any(spec[name][1].get("image_upload") for name in names[:required] if len(spec[name]) > 1)
            for position, name in enumerate(names):
                kind = spec[name][0]
                options = spec[name][1] if len(spec[name]) > 1 else {}
                type_name = "COMBO" if isinstance(kind, list) else kind
                is_widget = type_name in WIDGET_TYPES and not options.get("forceInput")
                value = node.inputs.get(name, options.get("default"))
                if is_widget:
                    if isinstance(value, Link):
                        sockets.append({"name": name, "type": type_name, "widget": {"name": name},
                                        "link": self._link(links, outputs_links, value, node, len(sockets),
                                                           type_name)})
                    if value is None:
                        value = widget_default(kind, options)
                    # A linked widget keeps a placeholder value: the frontend still lays the widget out.
                    widgets.append(options.get("default", "") if isinstance(value, Link) else value)
                    # The frontend gives seeds a "control after generate" widget even when the definition is
                    # silent about it.
                    if options.get("control_after_generate", type_name == "INT" and name in ("seed", "noise_seed")):
                        widgets.append("fixed")
                else:
                    link_id = None
                    if isinstance(value, Link):
                        link_id = self._link(links, outputs_links, value, node, len(sockets), type_name)
                    sockets.append({"name": name, "type": type_name, "link": link_id})
                if upload and position == required - 1:
                    widgets.append("image")
            multiline = sum(1 for name in names if len(spec[name]) > 1 and spec[name][1].get("multiline"))
            rows = max(len(sockets), len(info["output"])) + len(widgets)
            height = 50 + 24 * rows + 110 * multiline + (widget_heights or {}).get(node.class_type, 0)
            width = 340
            col = columns[node.id]
            x, y = 80 + col * COLUMN_WIDTH, next_y.get(col, 80)
            positions[node.id] = (x, y, width, height)
            y += height + ROW_GAP
            for note in (nt for nt in self.notes if nt.near is node):
                note_positions[id(note)] = (x, y, width, NOTE_HEIGHT)
                y += NOTE_HEIGHT + ROW_GAP
            next_y[col] = y
            ui_nodes.append({
                "id": node.id, "type": node.class_type, "pos": list(positions[node.id][:2]),
                "size": [width, height], "flags": {}, "order": order, "mode": 0 if node.bypass is None else 4,
                "inputs": sockets,
                "outputs": [{"name": name, "type": kind, "links": [], "slot_index": slot,
                             **({"shape": 6} if info.get("output_is_list", [False] * 99)[slot] else {})}
                            for slot, (name, kind) in enumerate(zip(info["output_name"], info["output"]))],
                "title": node.title,
                "properties": {"Node name for S&R": node.class_type},
                "widgets_values": widgets,
            })
        for ui_node in ui_nodes:
            for output in ui_node["outputs"]:
                output["links"] = outputs_links.get((ui_node["id"], output["slot_index"]), [])

        note_id = len(self.nodes)
        for note in self.notes:
            note_id += 1
            note.id = note_id
            positions[note_id] = x, y, w, h = note_positions[id(note)]
            ui_nodes.append({"id": note_id, "type": "Note", "pos": [x, y], "size": [w, h], "flags": {},
                             "order": len(ui_nodes), "mode": 0, "inputs": [], "outputs": [], "title": note.title,
                             "properties": {}, "widgets_values": [note.text], "color": "#432", "bgcolor": "#653"})

        groups = []
        for group in self.groups:
            member_ids = [n.id for n in group.nodes] + [nt.id for nt in self.notes if nt.near in group.nodes]
            boxes = [positions[i] for i in member_ids]
            x0 = min(b[0] for b in boxes) - GROUP_PADDING
            y0 = min(b[1] for b in boxes) - GROUP_PADDING - GROUP_TITLE_HEIGHT
            x1 = max(b[0] + b[2] for b in boxes) + GROUP_PADDING
            y1 = max(b[1] + b[3] for b in boxes) + GROUP_PADDING
            groups.append({"title": group.title, "bounding": [x0, y0, x1 - x0, y1 - y0], "color": group.color,
                           "font_size": 24, "flags": {}})

        return {
            "last_node_id": note_id,
            "last_link_id": len(links),
            "nodes": ui_nodes,
            "links": links,
            "groups": groups,
            "config": {},
            "extra": {"ds": {"scale": 0.8, "offset": [40, 80]}},
            "version": 0.4,
        }

    @staticmethod
    def _link(links: list, outputs_links: dict, value: Link, target: Node, target_slot: int, type_name: str) -> int:
        link_id = len(links) + 1
        links.append([link_id, value.node.id, value.slot, target.id, target_slot, type_name])
        outputs_links.setdefault((value.node.id, value.slot), []).append(link_id)
        return link_id
