"""API workflows with named parameters: values are bound to node inputs through a small parameter map shipped beside
each workflow, so callers never touch raw node ids.

A workflow ``workflows/api/<name>.json`` (ComfyUI's API format) may have a map ``<name>.params.json`` beside it::

    {
      "description": "Character sprite sheet: a description in, a Bevy-ready sheet out.",
      "parameters": {
        "prompt": {"type": "string", "help": "What to draw.",
                   "targets": [{"node": "Positive Prompt", "input": "text"}]},
        "seed":   {"type": "seed", "targets": [{"node": "Sampler", "input": "seed"}]},
        "steps":  {"type": "int", "default": 20, "min": 1, "max": 150,
                   "targets": [{"node": "Sampler", "input": "steps"}]}
      }
    }

Targets name nodes by their title (``_meta.title`` in the API format, what the editor shows), so regenerating a
workflow (new node ids) keeps its parameters working. A parameter may drive several inputs (one seed for two
samplers). Types: ``string``, ``int``, ``float``, ``bool``, ``choice`` (with ``choices``), ``seed`` (an int; a random
one is drawn when none is given, and recorded so the run can be repeated) and ``image`` (a local file, uploaded to
the server before the prompt is queued). Without ``default`` a parameter keeps the workflow's own value.

Any literal input can also be set without a map as ``"<node title>.<input>"``, e.g. ``Sampler.cfg``.
"""
from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..common.errors import InputError
from ..common.files import read_limited
from ..library.folder import API_DIR

PARAM_TYPES = ("string", "int", "float", "bool", "choice", "seed", "image")
PARAM_KEYS = {"type", "targets", "default", "help", "min", "max", "choices", "aliases"}
# Keys a batch job uses for itself, so no parameter may take these names.
RESERVED_NAMES = {"name", "workflow", "count"}
SEED_RANGE = (0, 2**32 - 1)
TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0"}
JSON_LIMIT = 64 << 20  # a workflow or parameter map: the largest shipped one is about 100 KB
TYPE_WORDS = {"string": "text", "int": "a whole number", "float": "a number", "bool": "true or false",
              "seed": "a whole number (a seed)", "image": "an image file path"}


@dataclass(frozen=True)
class Target:
    node: str  # the node's title
    input: str


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    targets: tuple[Target, ...]
    default: Any = None
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    aliases: tuple[str, ...] = ()  # former names, still accepted (old scripts and batch files keep working)

    def describe_type(self) -> str:
        if self.type == "choice":
            return "one of: " + ", ".join(str(c) for c in self.choices)
        return TYPE_WORDS[self.type]

    def coerce(self, value: Any, workflow: str = "", from_text: bool = False) -> Any:
        """``value`` checked and converted to this parameter's type; ``from_text`` for command-line strings."""
        where = f"parameter {self.name!r}" + (f" of workflow {workflow!r}" if workflow else "")
        wrong = InputError(f"{where} expects {self.describe_type()}, got {value!r}")
        if self.type in ("string", "image"):
            if not isinstance(value, str):
                raise wrong
            if self.type == "image":
                path = Path(value).expanduser()
                if not path.is_file():
                    raise InputError(f"{where}: no such image file: {value}")
                return str(path.resolve())
            return value
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
                return value.strip().lower() in TRUE_WORDS
            raise wrong
        if self.type == "choice":
            for choice in self.choices:
                if value == choice or (isinstance(value, str) and str(choice) == value.strip()):
                    return choice
            hint = difflib.get_close_matches(str(value), [str(c) for c in self.choices], n=1)
            raise InputError(f"{where} must be one of: {', '.join(str(c) for c in self.choices)}; got {value!r}"
                             + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        number = _number(value, self.type == "float", from_text)
        if number is None:
            raise wrong
        if self.minimum is not None and number < self.minimum:
            raise InputError(f"{where} must be at least {self.minimum}, got {number}")
        if self.maximum is not None and number > self.maximum:
            raise InputError(f"{where} must be at most {self.maximum}, got {number}")
        return number


def _number(value: Any, allow_float: bool, from_text: bool) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and from_text:
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            if not allow_float:
                return None
        try:
            return float(text)
        except ValueError:
            return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and allow_float:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


@dataclass
class ApiWorkflow:
    """An API-format workflow and its named parameters."""

    name: str
    prompt: dict
    parameters: dict[str, Parameter] = field(default_factory=dict)
    description: str = ""
    source: str = ""

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, ref: str | Path) -> "ApiWorkflow":
        """A workflow file (its ``.params.json`` beside it is read when present), or a library name."""
        path = find_workflow(ref)
        prompt = _read_json(path, "workflow")
        map_path = params_path(path)
        param_map = _read_json(map_path, "parameter map") if map_path.is_file() else {}
        return cls.from_dict(prompt, param_map, name=path.name.removesuffix(".json"), source=str(path))

    @classmethod
    def from_dict(cls, prompt: dict, param_map: dict | None = None, name: str = "workflow",
                  source: str = "") -> "ApiWorkflow":
        check_api_format(prompt, source or name)
        workflow = cls(name=name, prompt=prompt, source=source)
        param_map = param_map or {}
        where = f"{Path(source).name.removesuffix('.json') if source else name}.params.json"
        if not isinstance(param_map, dict) or not isinstance(param_map.get("parameters", {}), dict):
            raise InputError(f"{where}: expected an object with a \"parameters\" object")
        unknown = set(param_map) - {"description", "parameters"}
        if unknown:
            raise InputError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
                             "expected \"description\" and \"parameters\"")
        workflow.description = str(param_map.get("description", ""))
        for pname, spec in param_map.get("parameters", {}).items():
            workflow.parameters[pname] = workflow._parse_parameter(pname, spec, where)
        names = [name for p in workflow.parameters.values() for name in (p.name, *p.aliases)]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise InputError(f"{where}: {', '.join(map(repr, twice))} name(s) more than one parameter "
                             "(names and aliases must be unique)")
        return workflow

    def _parse_parameter(self, pname: str, spec: Any, where: str) -> Parameter:
        if pname in RESERVED_NAMES or "." in pname or not pname:
            raise InputError(f"{where}: {pname!r} cannot be a parameter name (no dots; not one of "
                             f"{', '.join(sorted(RESERVED_NAMES))})")
        if not isinstance(spec, dict):
            raise InputError(f"{where}: parameter {pname!r} must be an object")
        unknown = set(spec) - PARAM_KEYS
        if unknown:
            raise InputError(f"{where}: parameter {pname!r} has unknown key(s) {', '.join(sorted(unknown))}; "
                             f"allowed: {', '.join(sorted(PARAM_KEYS))}")
        ptype = spec.get("type", "string")
        if ptype not in PARAM_TYPES:
            raise InputError(f"{where}: parameter {pname!r} has type {ptype!r}; types: {', '.join(PARAM_TYPES)}")
        targets_spec = spec.get("targets")
        if not isinstance(targets_spec, list) or not targets_spec:
            raise InputError(f"{where}: parameter {pname!r} needs \"targets\": "
                             "[{\"node\": \"<node title>\", \"input\": \"<input name>\"}, ...]")
        targets = []
        for target in targets_spec:
            if not isinstance(target, dict) or set(target) != {"node", "input"}:
                raise InputError(f"{where}: parameter {pname!r}: each target is {{\"node\": ..., \"input\": ...}}, "
                                 f"got {target!r}")
            self._literal_input(target["node"], target["input"], f"{where}: parameter {pname!r}")
            targets.append(Target(target["node"], target["input"]))
        choices = tuple(spec.get("choices", ()))
        if ptype == "choice" and not choices:
            raise InputError(f"{where}: parameter {pname!r} is a choice but lists no \"choices\"")
        aliases = spec.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a and "." not in a for a in aliases):
            raise InputError(f"{where}: parameter {pname!r}: \"aliases\" is a list of former names (no dots)")
        parameter = Parameter(pname, ptype, tuple(targets), None, str(spec.get("help", "")),
                              spec.get("min"), spec.get("max"), choices, tuple(aliases))
        default = spec.get("default")
        # An image default names a file already on the server, so it is not checked as a local path.
        if default is not None and ptype != "image" and not (ptype == "seed" and default == "random"):
            try:
                default = parameter.coerce(default)
            except InputError as err:
                raise InputError(f"{where}: default of {err}") from None
        return dataclasses.replace(parameter, default=default)

    # ------------------------------------------------------------------ nodes by title
    def titles(self) -> dict[str, list[str]]:
        """Node title -> node ids (a title should name one node; a list shows duplicates)."""
        found: dict[str, list[str]] = {}
        for node_id, node in self.prompt.items():
            found.setdefault(node_title(node), []).append(node_id)
        return found

    def node_id(self, title: str, where: str = "") -> str:
        ids = self.titles().get(title)
        prefix = f"{where}: " if where else ""
        if not ids:
            hint = difflib.get_close_matches(title, list(self.titles()), n=1)
            raise InputError(f"{prefix}no node titled {title!r} in workflow {self.name!r}"
                             + (f" (did you mean {hint[0]!r}?)" if hint else "")
                             + f"; titles: {', '.join(sorted(self.titles()))}")
        if len(ids) > 1:
            raise InputError(f"{prefix}{len(ids)} nodes are titled {title!r} in workflow {self.name!r} "
                             f"(ids {', '.join(ids)}); give them distinct titles")
        return ids[0]

    def _literal_input(self, title: str, input_name: str, where: str = "") -> tuple[str, Any]:
        """(node id, current value) of a settable (not linked) input."""
        node_id = self.node_id(title, where)
        inputs = self.prompt[node_id].get("inputs", {})
        prefix = f"{where}: " if where else ""
        if input_name not in inputs:
            settable = [k for k, v in inputs.items() if not _is_link(v)]
            raise InputError(f"{prefix}node {title!r} has no input {input_name!r}; "
                             f"its settable inputs: {', '.join(settable) or 'none'}")
        if _is_link(inputs[input_name]):
            raise InputError(f"{prefix}input {input_name!r} of node {title!r} is connected to another node "
                             "and cannot be set")
        return node_id, inputs[input_name]

    # ------------------------------------------------------------------ values
    def direct_parameter(self, key: str) -> Parameter:
        """A ``"<node title>.<input>"`` key as a one-target parameter typed by the workflow's current value."""
        title, _, input_name = key.rpartition(".")
        _, current = self._literal_input(title, input_name)
        ptype = ("bool" if isinstance(current, bool) else "int" if isinstance(current, int)
                 else "float" if isinstance(current, float) else "string")
        return Parameter(key, ptype, (Target(title, input_name),))

    def parameter(self, key: str) -> Parameter:
        if key in self.parameters:
            return self.parameters[key]
        for parameter in self.parameters.values():
            if key in parameter.aliases:
                return parameter
        if "." in key:
            return self.direct_parameter(key)
        hint = difflib.get_close_matches(key, list(self.parameters), n=1)
        known = ", ".join(self.parameters) or "none (this workflow has no parameter map)"
        raise InputError(f"unknown parameter {key!r} for workflow {self.name!r}"
                         + (f" (did you mean {hint[0]!r}?)" if hint else "")
                         + f"; its parameters: {known}. Any node input can be set as \"<node title>.<input>\"")

    def resolve(self, values: Mapping[str, Any] | None = None, from_text: bool = False,
                rng: random.Random | None = None) -> dict[str, Any]:
        """Every named parameter's value (given, else default, else the workflow's), plus any direct keys.

        Seeds without a value are drawn from ``rng`` so the result records exactly what will run.
        """
        values = dict(values or {})
        resolved: dict[str, Any] = {}
        given: dict[str, str] = {}
        for key, value in values.items():
            parameter = self.parameter(key)
            if parameter.name in given:
                raise InputError(f"{given[parameter.name]!r} and {key!r} both set the parameter {parameter.name!r} "
                                 f"of workflow {self.name!r}; give one")
            given[parameter.name] = key
            resolved[parameter.name] = parameter.coerce(value, self.name, from_text)
        for pname, parameter in self.parameters.items():
            if pname in resolved:
                continue
            if parameter.type == "seed" and parameter.default in (None, "random"):
                resolved[pname] = (rng or random).randint(*SEED_RANGE)
            elif parameter.default is not None:
                resolved[pname] = parameter.default
            else:
                resolved[pname] = self._literal_input(parameter.targets[0].node, parameter.targets[0].input)[1]
        return resolved

    def image_parameters(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Parameter name -> local file for the image parameters among ``values`` (to upload before queueing)."""
        return {k: v for k, v in values.items()
                if k in self.parameters and self.parameters[k].type == "image" and isinstance(v, str)
                and Path(v).is_file()}

    def bind(self, values: Mapping[str, Any], uploaded: Mapping[str, str] | None = None) -> dict:
        """A copy of the prompt with ``values`` written into their targets; ``uploaded`` maps image parameters to
        the names the server gave the uploaded files."""
        prompt = copy.deepcopy(self.prompt)
        uploaded = uploaded or {}
        for key, value in values.items():
            parameter = self.parameter(key)
            if parameter.type == "image" and key in uploaded:
                value = uploaded[key]
            for target in parameter.targets:
                node_id, _ = self._literal_input(target.node, target.input)
                prompt[node_id]["inputs"][target.input] = value
        return prompt

    def seed_of(self, values: Mapping[str, Any]) -> int | None:
        """The run's seed: the first seed parameter's value (None when the workflow has no seed parameter)."""
        for pname, parameter in self.parameters.items():
            if parameter.type == "seed" and pname in values:
                return values[pname]
        return None

    def output_titles(self) -> dict[str, str]:
        """Node id -> title, for naming downloaded files after the node that made them."""
        return {node_id: node_title(node) for node_id, node in self.prompt.items()}

    def to_param_map(self) -> dict:
        """The parameter map in its file format (the run manifest keeps one per workflow)."""
        parameters = {}
        for p in self.parameters.values():
            spec: dict[str, Any] = {"type": p.type, "targets": [{"node": t.node, "input": t.input} for t in p.targets]}
            for key, value in (("default", p.default), ("help", p.help), ("min", p.minimum), ("max", p.maximum),
                               ("choices", list(p.choices)), ("aliases", list(p.aliases))):
                if value not in (None, "", []):
                    spec[key] = value
            parameters[p.name] = spec
        return {"description": self.description, "parameters": parameters}

    def fingerprint(self) -> str:
        text = json.dumps([self.prompt, self.to_param_map()], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def default_value(self, parameter: Parameter) -> Any:
        """What a parameter is when no value is given: its default, else the workflow's own value ("random" for a
        seed drawn per run)."""
        if parameter.type == "seed" and parameter.default in (None, "random"):
            return "random"
        if parameter.default is not None:
            return parameter.default
        return self._literal_input(parameter.targets[0].node, parameter.targets[0].input)[1]

    def parameter_list(self) -> list[dict]:
        """The parameters as data (for the REST and MCP interfaces): name, type, help, default, limits."""
        listed = []
        for p in self.parameters.values():
            entry = {"name": p.name, "type": p.type, "help": p.help, "default": self.default_value(p)}
            entry.update({key: value for key, value in (("min", p.minimum), ("max", p.maximum),
                                                        ("choices", list(p.choices)), ("aliases", list(p.aliases)))
                          if value not in (None, [])})
            listed.append(entry)
        return listed

    def describe(self) -> str:
        """The parameters as a user reads them (``dgx-pixels run WORKFLOW --list-params``)."""
        lines = [f"{self.name}: {self.description}" if self.description else self.name]
        if not self.parameters:
            lines.append("  (no parameter map; set node inputs as \"<node title>.<input>\")")
        for p in self.parameters.values():
            value = self.default_value(p)
            default = "random" if p.type == "seed" and value == "random" else repr(value)
            bounds = "".join(f", {word} {v}" for word, v in (("min", p.minimum), ("max", p.maximum)) if v is not None)
            also = f"; also {', '.join(p.aliases)}" if p.aliases else ""
            lines.append(f"  {p.name} ({p.describe_type()}{bounds}; default {default}{also})")
            if p.help:
                lines.append(f"      {p.help}")
        return "\n".join(lines)


def node_title(node: dict) -> str:
    return (node.get("_meta") or {}).get("title") or node.get("class_type", "")


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)


def check_api_format(prompt: Any, where: str) -> None:
    """Reject what is not an API-format graph, with the fix for the common mistake (an editor-format file)."""
    if isinstance(prompt, dict) and "nodes" in prompt and "links" in prompt:
        raise InputError(f"{where} is in ComfyUI's editor format; queueing needs the API format: use the twin in "
                         "workflows/api/, or in ComfyUI use Workflow > Export (API)")
    if not isinstance(prompt, dict) or not prompt:
        raise InputError(f"{where}: not an API-format workflow (expected an object of nodes by id)")
    for node_id, node in prompt.items():
        if not isinstance(node, dict) or "class_type" not in node or not isinstance(node.get("inputs", {}), dict):
            raise InputError(f"{where}: node {node_id!r} is not an API-format node "
                             "(expected {\"class_type\": ..., \"inputs\": {...}})")


def params_path(workflow_path: Path) -> Path:
    return workflow_path.with_name(workflow_path.name.removesuffix(".json") + ".params.json")


def library_names() -> list[str]:
    """The workflows of the library (``workflows/api/<name>.json`` with a parameter map)."""
    if not API_DIR.is_dir():
        return []
    return sorted(p.name.removesuffix(".params.json") for p in API_DIR.glob("*.params.json")
                  if (API_DIR / p.name.replace(".params.json", ".json")).is_file())


def library_workflow(name: Any) -> ApiWorkflow:
    """A workflow of the library by name, and nothing else (no file paths: for callers on other machines)."""
    names = library_names()
    if not isinstance(name, str) or name not in names:
        shown = repr(name[:100]) if isinstance(name, str) else f"a {type(name).__name__}"
        hint = difflib.get_close_matches(name, names, n=1) if isinstance(name, str) else []
        raise InputError(f"no workflow {shown} in the library" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                         + f"; library workflows: {', '.join(names) or 'none'}")
    return ApiWorkflow.load(API_DIR / f"{name}.json")


def find_workflow(ref: str | Path) -> Path:
    """A workflow file path, or the name of one in the library (``workflows/api/<name>.json``)."""
    path = Path(ref).expanduser()
    if path.is_file():
        return path
    library = API_DIR / f"{str(ref).removesuffix('.json')}.json"
    if library.is_file():
        return library
    names = sorted(p.name.removesuffix(".json") for p in API_DIR.glob("*.json")
                   if not p.name.endswith(".params.json")) if API_DIR.is_dir() else []
    raise InputError(f"no workflow {str(ref)!r}: not a file, and not in the library ({API_DIR})"
                     + (f"; library workflows: {', '.join(names)}" if names else ""))


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(read_limited(path, JSON_LIMIT, what).decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: the {what} is not a JSON text file (is it an image? `run` takes an API-format "
                         "workflow .json)") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: the {what} is not valid JSON (line {err.lineno}, column {err.colno}: "
                         f"{err.msg})") from None
    except RecursionError:
        raise InputError(f"{path}: the {what} nests too deeply to be a workflow") from None


def parse_assignment(text: str) -> tuple[str, str]:
    """``"name=value"`` from ``--set`` -> (name, value)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise InputError(f"--set expects NAME=VALUE, got {text!r}")
    return name.strip(), value
