# DGX-Pixels: `make run` starts ComfyUI with the pack loaded, `make test` runs every test.
PYTHON ?= python3
HOST_PYTHON = $$($(PYTHON) -m dgx_pixels host python)

.PHONY: run host test test-unit workflows

run:
	$(PYTHON) -m dgx_pixels host run $(if $(COMFYUI),--comfyui "$(COMFYUI)")

# Provision (or check) the ComfyUI host in ~/.cache/dgx-pixels; COMFYUI=<folder, git URL or git repo> picks the source.
host:
	$(PYTHON) -m dgx_pixels host setup $(if $(COMFYUI),--comfyui "$(COMFYUI)")

test: host
	$(HOST_PYTHON) -m pytest tests $(PYTEST_ARGS)

test-unit: host
	$(HOST_PYTHON) -m pytest tests -m "not host" $(PYTEST_ARGS)

# Rewrite workflows/ from dgx_pixels/library/definitions.py (starts a ComfyUI for the node definitions).
workflows: host
	$(HOST_PYTHON) tools/write_workflows.py
