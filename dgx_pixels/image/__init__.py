"""Images as ComfyUI tensors: file reading and writing, checks, background to alpha, seamless tiling."""
