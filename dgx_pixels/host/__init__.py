"""The ComfyUI host: provisioning ComfyUI with this pack, and the model files the workflows need."""
