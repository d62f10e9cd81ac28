"""Running workflows on ComfyUI servers: named parameters, batch files and the client."""
