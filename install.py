"""Run by ComfyUI-Manager after it pip-installs requirements.txt.

Everything DGX-Pixels needs is a pip requirement, so there is nothing to install here; this only checks the
environment and says what is missing, and is safe to run any number of times.
"""
import importlib.util
import sys

missing = [name for name in ("torch", "numpy", "PIL") if importlib.util.find_spec(name) is None]
if sys.version_info < (3, 10):
    print("DGX-Pixels needs Python 3.10 or newer")
elif missing:
    print(f"DGX-Pixels: missing Python packages: {', '.join(missing)} (pip install -r requirements.txt)")
else:
    print("DGX-Pixels: ready")
