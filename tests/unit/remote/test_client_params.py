"""Named parameters, batch files, the run manifest and the command's errors, without a server."""
from __future__ import annotations

import io
import json
import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dgx_pixels.remote.batchfile import read_batch, typed_values
from dgx_pixels.remote.client.records import Job, JobRecord, JobState, normalise_url
from dgx_pixels.remote.client.manifest import RunManifest
from dgx_pixels.remote.client.replies import describe_failure, describe_rejection
from dgx_pixels.remote.client.scheduler import local_names, output_refs
from dgx_pixels.cli.progress import ProgressView
from dgx_pixels.common.errors import InputError
from dgx_pixels.remote.params import ApiWorkflow, parse_assignment
from paths import DATA, REPO

ROOT = REPO
TXT2IMG = DATA / "tiny_txt2img.json"


@pytest.fixture
def workflow() -> ApiWorkflow:
    return ApiWorkflow.load(TXT2IMG)


def dgx(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dgx_pixels", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=60)


# ---------------------------------------------------------------------------------------------------- parameters
def test_parameters_bind_by_node_title(workflow):
    values = workflow.resolve({"prompt": "a slime", "seed": 42, "steps": 3})
    prompt = workflow.bind(values)
    assert prompt["2"]["inputs"]["text"] == "a slime"
    assert prompt["5"]["inputs"]["seed"] == 42 and prompt["5"]["inputs"]["steps"] == 3
    assert prompt["5"]["inputs"]["model"] == ["1", 0]  # links untouched
    assert workflow.prompt["2"]["inputs"]["text"] == "pixel art knight, sprite"  # the workflow itself unchanged


def test_defaults_come_from_the_map_then_the_workflow_and_seeds_are_drawn(workflow):
    values = workflow.resolve({}, rng=random.Random(1))
    assert values["steps"] == 2 and values["prompt"] == "pixel art knight, sprite"
    assert 0 <= values["seed"] < 2**32
    assert workflow.resolve({}, rng=random.Random(1))["seed"] == values["seed"]
    assert workflow.seed_of(values) == values["seed"]


def test_command_line_text_is_converted_to_the_parameter_type(workflow):
    values = workflow.resolve({"steps": "4", "seed": " 7 "}, from_text=True)
    assert values["steps"] == 4 and values["seed"] == 7
    direct = workflow.resolve({"Sampler.cfg": "6.5", "Canvas.width": "32"}, from_text=True)
    assert direct["Sampler.cfg"] == 6.5 and direct["Canvas.width"] == 32
    assert workflow.bind(direct)["5"]["inputs"]["cfg"] == 6.5


@pytest.mark.parametrize("values, message", [
    ({"sead": 1}, "unknown parameter 'sead' for workflow 'tiny_txt2img' (did you mean 'seed'?)"),
    ({"steps": "abc"}, "parameter 'steps' of workflow 'tiny_txt2img' expects a whole number, got 'abc'"),
    ({"steps": 0}, "parameter 'steps' of workflow 'tiny_txt2img' must be at least 1, got 0"),
    ({"steps": 2.5}, "expects a whole number, got 2.5"),
    ({"steps": True}, "expects a whole number, got True"),
    ({"prompt": 1984}, "parameter 'prompt' of workflow 'tiny_txt2img' expects text, got 1984"),
    ({"Sampler.model": 1}, "input 'model' of node 'Sampler' is connected to another node and cannot be set"),
    ({"Sampler.sed": 1}, "node 'Sampler' has no input 'sed'; its settable inputs: seed, steps, cfg"),
    ({"Sampeler.cfg": 1}, "no node titled 'Sampeler' in workflow 'tiny_txt2img' (did you mean 'Sampler'?)"),
])
def test_bad_values_name_the_parameter_and_the_problem(workflow, values, message):
    with pytest.raises(InputError) as err:
        workflow.resolve(values)
    assert message in str(err.value)


def test_bool_choice_and_image_parameters(tmp_path, workflow):
    param_map = {"parameters": {
        "sampler": {"type": "choice", "choices": ["euler", "ddim"], "targets": [{"node": "Sampler",
                                                                                "input": "sampler_name"}]},
        "denoise_on": {"type": "bool", "targets": [{"node": "Negative Prompt", "input": "text"}]},
        "picture": {"type": "image", "targets": [{"node": "Positive Prompt", "input": "text"}]}}}
    wf = ApiWorkflow.from_dict(workflow.prompt, param_map, name="kinds")
    assert wf.resolve({"sampler": "ddim"})["sampler"] == "ddim"
    with pytest.raises(InputError, match="must be one of: euler, ddim; got 'eulr' \\(did you mean 'euler'\\?\\)"):
        wf.resolve({"sampler": "eulr"})
    assert wf.resolve({"denoise_on": "yes"}, from_text=True)["denoise_on"] is True
    with pytest.raises(InputError, match="expects true or false, got 'maybe'"):
        wf.resolve({"denoise_on": "maybe"}, from_text=True)
    with pytest.raises(InputError, match="no such image file"):
        wf.resolve({"picture": str(tmp_path / "missing.png")})
    image = tmp_path / "in.png"
    image.write_bytes(b"png")
    values = wf.resolve({"picture": str(image)})
    assert wf.image_parameters(values) == {"picture": str(image.resolve())}
    assert wf.bind(values, {"picture": "in-abc.png"})["2"]["inputs"]["text"] == "in-abc.png"


def test_folder_parameters_take_a_local_folder_and_bind_the_uploaded_subfolder(tmp_path, workflow):
    param_map = {"parameters": {"dataset": {"type": "folder", "targets": [{"node": "Positive Prompt",
                                                                          "input": "text"}]}}}
    wf = ApiWorkflow.from_dict(workflow.prompt, param_map, name="folders")
    with pytest.raises(InputError, match="parameter 'dataset' of workflow 'folders': no such folder"):
        wf.resolve({"dataset": str(tmp_path / "missing")})
    values = wf.resolve({"dataset": str(tmp_path)})
    assert wf.folder_parameters(values) == {"dataset": str(tmp_path.resolve())} and wf.image_parameters(values) == {}
    assert wf.bind(values, {"dataset": "training/art-abc"})["2"]["inputs"]["text"] == "training/art-abc"


def test_generate_takes_a_trained_lora_by_name_and_train_checks_its_folder(tmp_path):
    from dgx_pixels.cli.main import build_parser
    from dgx_pixels.cli.train import _values

    parser = build_parser()
    assert parser.parse_args(["generate", "items", "--lora", "mystyle"]).lora == "mystyle.safetensors"
    assert parser.parse_args(["generate", "items", "--lora", "pixel-art-xl.safetensors"]).lora == \
        "pixel-art-xl.safetensors"
    args = parser.parse_args(["train", str(tmp_path), "--name", "hero", "--character", "--steps", "10"])
    assert _values(args) == {"dataset": str(tmp_path), "lora_name": "hero", "trigger": "hero", "steps": "10",
                             "sprite_type": "character sprite, full body"}
    with pytest.raises(InputError, match="leave out --flip"):
        _values(parser.parse_args(["train", str(tmp_path), "--name", "hero", "--character", "--flip"]))
    with pytest.raises(InputError, match="no such folder"):
        _values(parser.parse_args(["train", str(tmp_path / "nope"), "--name", "hero"]))
    # the loss graph compares losses: one step is refused before anything is uploaded
    one_step = _values(parser.parse_args(["train", str(tmp_path), "--name", "hero", "--steps", "1"]))
    with pytest.raises(InputError, match="at least 2"):
        typed_values(ApiWorkflow.load("train_pixel_lora"), one_step)


@pytest.mark.parametrize("param_map, message", [
    ({"parameters": {"x": {"targets": [{"node": "Nope", "input": "text"}]}}},
     "parameter 'x': no node titled 'Nope'"),
    ({"parameters": {"x": {"targets": [{"node": "Sampler", "input": "model"}]}}}, "is connected to another node"),
    ({"parameters": {"x": {"type": "integer", "targets": [{"node": "Sampler", "input": "seed"}]}}},
     "has type 'integer'; types: string, int"),
    ({"parameters": {"x": {"type": "int", "defualt": 3, "targets": [{"node": "Sampler", "input": "seed"}]}}},
     "unknown key(s) defualt"),
    ({"parameters": {"name": {"targets": [{"node": "Sampler", "input": "seed"}]}}}, "cannot be a parameter name"),
    ({"parameters": {"x": {"type": "int"}}}, "needs \"targets\""),
    ({"parameters": {"x": {"type": "int", "default": "many", "targets": [{"node": "Sampler", "input": "seed"}]}}},
     "default of parameter 'x' expects a whole number"),
    ({"params": {}}, "unknown key(s) params"),
])
def test_parameter_map_mistakes_are_reported_with_the_file(workflow, param_map, message):
    with pytest.raises(InputError) as err:
        ApiWorkflow.from_dict(workflow.prompt, param_map, name="wf", source=str(TXT2IMG))
    assert "tiny_txt2img.params.json" in str(err.value)
    assert message in str(err.value)


def test_duplicate_titles_are_ambiguous_targets(workflow):
    prompt = json.loads(json.dumps(workflow.prompt))
    prompt["3"]["_meta"]["title"] = "Positive Prompt"
    with pytest.raises(InputError, match="2 nodes are titled 'Positive Prompt'"):
        ApiWorkflow.from_dict(prompt, {"parameters": {"p": {"targets": [{"node": "Positive Prompt",
                                                                          "input": "text"}]}}})


def test_editor_format_and_missing_files_are_explained(tmp_path):
    editor = tmp_path / "ui.json"
    editor.write_text(json.dumps({"nodes": [], "links": [], "version": 0.4}))
    with pytest.raises(InputError, match="editor format; queueing needs the API format"):
        ApiWorkflow.load(editor)
    with pytest.raises(InputError, match="no workflow 'no_such_workflow': not a file, and not in the library"):
        ApiWorkflow.load("no_such_workflow")
    broken = tmp_path / "broken.json"
    broken.write_text('{"1": {"class_type": "X", "inputs": {}},\n oops}')
    with pytest.raises(InputError, match="not valid JSON \\(line 2"):
        ApiWorkflow.load(broken)


def test_without_a_map_inputs_are_set_by_title(tmp_path, workflow):
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(workflow.prompt))
    wf = ApiWorkflow.load(bare)
    assert wf.parameters == {}
    assert "no parameter map" in wf.describe()
    with pytest.raises(InputError, match="its parameters: none"):
        wf.resolve({"seed": 1})
    assert wf.bind(wf.resolve({"Sampler.seed": "9"}, from_text=True))["5"]["inputs"]["seed"] == 9


def test_parse_assignment():
    assert parse_assignment("prompt=a=b") == ("prompt", "a=b")
    with pytest.raises(InputError, match="--set expects NAME=VALUE, got 'seed'"):
        parse_assignment("seed")


# ---------------------------------------------------------------------------------------------------- batch files
def test_batch_file_formats_give_the_same_jobs(tmp_path):
    shutil_copy(TXT2IMG, tmp_path)
    (tmp_path / "jobs.yaml").write_text(
        "workflow: tiny_txt2img.json\ndefaults: {steps: 3}\njobs:\n  - a knight\n"
        "  - {name: slime, prompt: a slime, seed: 7}\n  - {prompt: a chest, seed: 10, count: 3}\n")
    (tmp_path / "jobs.json").write_text(json.dumps({
        "workflow": "tiny_txt2img.json", "defaults": {"steps": 3},
        "jobs": ["a knight", {"name": "slime", "prompt": "a slime", "seed": 7},
                 {"prompt": "a chest", "seed": 10, "count": 3}]}))
    (tmp_path / "jobs.toml").write_text(
        'workflow = "tiny_txt2img.json"\n[defaults]\nsteps = 3\n[[jobs]]\nprompt = "a knight"\n'
        '[[jobs]]\nname = "slime"\nprompt = "a slime"\nseed = 7\n[[jobs]]\nprompt = "a chest"\nseed = 10\ncount = 3\n')
    results = []
    for name in ("jobs.yaml", "jobs.json", "jobs.toml"):
        jobs = read_batch(tmp_path / name)
        results.append([(j.name, j.params["prompt"], j.params["steps"]) for j in jobs])
        assert [j.params["seed"] for j in jobs][1:] == [7, 10, 11, 12]
    assert results[0] == results[1] == results[2]
    assert results[0][0] == ("", "a knight", 3) and results[0][1] == ("slime", "a slime", 3)


def test_prompt_per_line_file_and_command_line_values(tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# items\na sword\n\na shield\n")
    jobs = read_batch(prompts, workflow=str(TXT2IMG), overrides={"steps": "5"})
    assert [(j.params["prompt"], j.params["steps"]) for j in jobs] == [("a sword", 5), ("a shield", 5)]
    with pytest.raises(InputError, match="line 1: no workflow; give --workflow WORKFLOW"):
        read_batch(prompts)


@pytest.mark.parametrize("name, text, message", [
    ("b.yaml", "jobs:\n  - {prompt: a, steps: [1}\n", "invalid YAML at line 2"),
    ("b.json", '{"jobs": [}', "invalid JSON at line 1"),
    ("b.toml", "jobs = [", "invalid TOML"),
    ("b.yaml", "jobs:\n  - {prompt: a}\n  - {prompt: b, stepz: 3}\n",
     "job 2: unknown parameter 'stepz' for workflow 'tiny_txt2img' (did you mean 'steps'?)"),
    ("b.yaml", "jobs:\n  - {name: x, prompt: b, steps: lots}\n",
     "job 1 (x): parameter 'steps' of workflow 'tiny_txt2img' expects a whole number, got 'lots'"),
    ("b.yaml", "jobs:\n  - {prompt: a, count: 0}\n", "job 1: count must be a whole number from 1"),
    ("b.yaml", "workflows: x\njobs: []\n", "unknown key(s) workflows"),
    ("b.yaml", "jobs: []\n", "no jobs in the file"),
])
def test_batch_file_errors_say_where(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_batch(path, workflow=str(TXT2IMG))
    assert str(path) in str(err.value)
    assert message in str(err.value)


def shutil_copy(source: Path, folder: Path) -> None:
    for suffix in (".json", ".params.json"):
        src = source.with_name(source.name.removesuffix(".json") + suffix)
        (folder / src.name).write_bytes(src.read_bytes())


# ---------------------------------------------------------------------------------------------------- manifest
def test_manifest_round_trip_and_journal(tmp_path, workflow):
    jobs = [Job.create(workflow, {"prompt": p, "seed": i}) for i, p in enumerate(["a", "b", "c"])]
    manifest = RunManifest.create(tmp_path / "run", jobs, ["http://127.0.0.1:1"])
    assert [j.name for j in manifest.jobs] == ["0001", "0002", "0003"]
    assert len({j.prompt_id for j in manifest.jobs}) == 3  # ids exist before anything is queued
    assert not list((tmp_path / "run").glob(".*tmp"))

    job = manifest.jobs[1]
    job.state, job.server = JobState.QUEUED, "http://127.0.0.1:1"
    manifest.log(job)  # a client killed now still knows the job may be on the server
    loaded = RunManifest.load(tmp_path / "run")
    assert [j.state for j in loaded.jobs] == ["pending", "queued", "pending"]
    assert loaded.jobs[1].prompt_id == job.prompt_id and loaded.jobs[0].seed == 0
    assert loaded.workflows["tiny_txt2img"].bind(loaded.jobs[0].params)["2"]["inputs"]["text"] == "a"
    manifest.save()
    assert not manifest.journal_path.exists()

    with pytest.raises(InputError, match="already holds a run"):
        RunManifest.create(tmp_path / "run", jobs, [])
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(InputError, match="not a dgx-pixels run manifest"):
        RunManifest.load(tmp_path / "junk.json")


def test_duplicate_job_names_are_refused(tmp_path, workflow):
    jobs = [Job.create(workflow, {}, name="hero"), Job.create(workflow, {}, name="hero")]
    with pytest.raises(InputError, match="two jobs are named 'hero'"):
        RunManifest.create(tmp_path / "run", jobs, [])


def test_output_refs_and_local_names():
    outputs = {"7": {"images": [{"filename": "tiny_00001_.png", "subfolder": "", "type": "output"},
                                {"filename": "tiny_00002_.png", "subfolder": "", "type": "output"}]},
               "8": {"images": [{"filename": "p.png", "subfolder": "", "type": "temp"}]},
               "9": {"images": [{"filename": "sheet.PNG", "subfolder": "s", "type": "output"}], "text": ["hi"]}}
    refs = output_refs(outputs, {"7": "Sprite", "9": "Sprite"}, ("output",))
    assert [r["filename"] for r in refs] == ["tiny_00001_.png", "tiny_00002_.png", "sheet.PNG"]
    assert local_names(refs) == ["sprite_000.png", "sprite_001.png", "sprite-9.png"]


def test_server_messages_name_nodes_by_title():
    answer = {"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                        "details": ""},
              "node_errors": {"5": {"class_type": "KSampler", "errors": [
                  {"type": "value_smaller_than_min", "message": "Value -5.0 smaller than min of 0.0",
                   "details": "cfg"}]}}}
    text = describe_rejection(answer, {"5": "Sampler"})
    assert text == ("Prompt outputs failed validation; node 'Sampler' (KSampler): Value -5.0 smaller than min of 0.0 "
                    "(cfg)")
    entry = {"status": {"status_str": "error", "messages": [
        ["execution_start", {}],
        ["execution_error", {"node_id": "6", "node_type": "VAEDecode", "exception_type": "RuntimeError",
                             "exception_message": "boom\n"}]]}}
    assert describe_failure(entry, {"6": "Decode"}) == "node 'Decode' (VAEDecode) failed: RuntimeError: boom"


def test_server_urls():
    assert normalise_url("127.0.0.1:8188/") == "http://127.0.0.1:8188"
    assert normalise_url("https://gpu.example/comfy") == "https://gpu.example/comfy"
    with pytest.raises(InputError, match="not a server URL"):
        normalise_url("http://")


def test_progress_view_draws_a_bar_per_job_and_for_the_batch(tmp_path):
    from dgx_pixels.remote.client.records import Event

    stream = io.StringIO()
    view = ProgressView(4, tmp_path, stream=stream, live=True)
    job = JobRecord(name="0001", workflow="w", params={})
    view(Event("progress", job, "http://a", fraction=0.5, node="Sampler", step=(2, 4),
               counts={"done": 1, "failed": 0}))
    lines = view.lines()
    assert lines[0].startswith("  0001") and "[############------------]  50%  Sampler 2/4" in lines[0]
    assert lines[-1].startswith("batch [######------------------] 1/4 done, 0 failed, 1 on the servers")
    job.files = [{"path": "0001/sprite.png"}]
    view(Event("done", job, "http://a", counts={"done": 2, "failed": 0}))
    assert f"[2/4] 0001 done on http://a: {tmp_path / '0001/sprite.png'}" in stream.getvalue()
    assert view.running == {}


# ---------------------------------------------------------------------------------------------------- the command
def test_command_rejects_bad_parameters_with_exit_code_2(tmp_path):
    result = dgx("run", str(TXT2IMG), "--set", "sead=4", "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "unknown parameter 'sead' for workflow 'tiny_txt2img' (did you mean 'seed'?)" in result.stderr
    result = dgx("run", str(TXT2IMG), "--set", "steps=many", "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "parameter 'steps' of workflow 'tiny_txt2img' expects a whole number, got 'many'" in result.stderr
    result = dgx("run", str(TXT2IMG), "--set", "steps")
    assert result.returncode == 2 and "--set expects NAME=VALUE" in result.stderr
    assert not (tmp_path / "out").exists()


def test_command_lists_parameters():
    result = dgx("run", str(TXT2IMG), "--list-params")
    assert result.returncode == 0
    assert "steps (a whole number, min 1, max 100; default 2)" in result.stdout
    assert "seed (a whole number (a seed); default random)" in result.stdout


def test_unreachable_server_exits_3_and_says_how_to_start_one(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there
    result = dgx("run", str(TXT2IMG), "--server", f"127.0.0.1:{port}", "--retries", "1", "-o", str(tmp_path / "o"))
    assert result.returncode == 3
    assert f"cannot reach any ComfyUI server (http://127.0.0.1:{port}: cannot connect to 127.0.0.1:{port} " \
           "(connection refused))" in result.stderr
    assert "dgx-pixels host run" in result.stderr
    assert not (tmp_path / "o").exists(), "no half-started run is left behind"


def test_sync_twins_work_inside_a_running_event_loop():
    """Notebooks, GUIs and Playwright's sync API run a loop already; the sync calls must still work there."""
    import asyncio

    from dgx_pixels.remote.client import Client

    import threading

    async def caller():
        return Client._sync(asyncio.sleep(0, result="done"))

    # The outer loop gets a thread of its own: this test may run while the browser tests' loop is alive.
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", asyncio.run(caller())))
    thread.start()
    thread.join(timeout=30)
    assert result == {"value": "done"}


def test_palette_size_is_colours_everywhere_and_the_former_name_still_binds():
    """The parameter was called ``colors``; scripts, batch files and the 0.1 files keep working with that name."""
    workflow = ApiWorkflow.load("cleanup_existing_art")
    assert workflow.parameters["colours"].aliases == ("colors",)
    assert workflow.resolve({"colors": 8})["colours"] == workflow.resolve({"colours": 8})["colours"] == 8
    assert "colors" not in workflow.resolve({"colors": 8})
    with pytest.raises(InputError, match="'colours' and 'colors' both set the parameter 'colours'"):
        workflow.resolve({"colours": 8, "colors": 4})
    bound = workflow.bind(workflow.resolve({"colors": 5}, from_text=True))
    assert bound[workflow.node_id("Palette")]["inputs"]["colours"] == 5
    # The files as version 0.1 shipped them (parameter "colors", no aliases) still load and bind the same node.
    legacy = ApiWorkflow.load(DATA / "legacy" / "cleanup_existing_art.json")
    assert legacy.bind(legacy.resolve({"colors": 5}))[legacy.node_id("Palette")]["inputs"]["colours"] == 5
    # The API graph is the same but for the Save Sheet node and the optional inputs added since, at their defaults
    # (nodes compared by title: ids moved).
    legacy_nodes, current = _by_title(legacy.prompt), _by_title(workflow.prompt)
    added_inputs = {"Palette": {"snap_to_builtin": False}}
    for title, inputs in added_inputs.items():
        assert {key: current[title][1].pop(key) for key in inputs} == inputs
    assert {title: current[title] for title in legacy_nodes} == legacy_nodes
    assert set(current) - set(legacy_nodes) == {"Sheet"}


def _by_title(prompt: dict) -> dict:
    """An API graph as {title: (class, inputs with links as [title, slot])}."""
    titles = {node_id: node["_meta"]["title"] for node_id, node in prompt.items()}
    return {titles[node_id]: (node["class_type"], {key: [titles[value[0]], value[1]] if isinstance(value, list)
                                                   else value for key, value in node["inputs"].items()})
            for node_id, node in prompt.items()}


def test_aliases_must_not_clash(tmp_path):
    workflow = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8}, "_meta": {"title": "Canvas"}}}
    param_map = {"parameters": {
        "width": {"type": "int", "targets": [{"node": "Canvas", "input": "width"}], "aliases": ["size"]},
        "height": {"type": "int", "targets": [{"node": "Canvas", "input": "height"}], "aliases": ["size"]}}}
    with pytest.raises(InputError, match="'size' name"):
        ApiWorkflow.from_dict(workflow, param_map)
