"""The MCP server (``dgx-pixels mcp``): DGX-Pixels as tools an AI assistant calls, on the official Python SDK.

``server`` builds it and runs it over stdio or over streamable HTTP on loopback with a bearer token; ``jobs`` holds
the generation tools (jobs on ComfyUI servers, with progress and cancelling) and the resources of their files;
``local`` the tools that need no server (clean up an image, palettes, a project's assets). Every path a tool takes
is checked against the allowed folders; bad arguments and refused paths come back as tool errors.
"""
