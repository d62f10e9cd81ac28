"""The shipped workflow library: a graph builder for both workflow formats, and the workflows defined once."""
