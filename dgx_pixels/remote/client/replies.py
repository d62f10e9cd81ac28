"""What ComfyUI answers, checked: a reply of another shape (not JSON, a list where an object belongs, a status that
is not one) becomes a BadReply saying what the server sent, never an AttributeError deep in the client."""
from __future__ import annotations

import json
import struct
from typing import Mapping

from .records import BadReply

PROGRESS_TEXT_EVENT = 3  # ComfyUI's BinaryEventTypes.TEXT: a node's progress text
NODE_ID_BYTES = 256  # ComfyUI's node ids are short ("12", "7:3"): a longer one is garbage
PROGRESS_TEXT_LENGTH = 200  # characters of a progress text kept (it is shown on one line)


def reply_object(body: bytes, what: str) -> dict:
    """A JSON object the server sent for ``what``, or a BadReply saying what came instead."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise BadReply(f"the server sent {reply_text(body)} for {what}, which is not JSON") from None
    if not isinstance(value, dict):
        raise BadReply(f"the server sent a JSON {type(value).__name__} for {what}, not an object")
    return value


def reply_text(body: bytes) -> str:
    """The start of a reply, for a message."""
    text = body[:200].decode(errors="replace") if isinstance(body, bytes) else str(body)[:200]
    return repr(text) + ("..." if len(body) > 200 else "")


def describe_rejection(answer: dict, titles: Mapping[str, str]) -> str:
    """ComfyUI's /prompt error answer as lines naming nodes by title (any part of another shape is shown as is)."""
    lines = []
    error = answer.get("error")
    if isinstance(error, dict):
        details = error.get("details")
        lines.append(str(error.get("message", "invalid prompt")) + (f": {details}" if details else ""))
    elif error:
        lines.append(str(error)[:500])
    node_errors = answer.get("node_errors")
    for node_id, info in (node_errors.items() if isinstance(node_errors, dict) else []):
        title = titles.get(node_id, node_id)
        errors = info.get("errors") if isinstance(info, dict) else None
        for err in errors if isinstance(errors, list) else [info]:
            if not isinstance(err, dict):
                lines.append(f"node {title!r}: {str(err)[:300]}")
                continue
            details = err.get("details")
            lines.append(f"node {title!r} ({info.get('class_type', '?')}): {err.get('message', err.get('type'))}"
                         + (f" ({details})" if details else ""))
    return "; ".join(lines) or json.dumps(answer)[:500]


def describe_failure(entry: dict, titles: Mapping[str, str]) -> str:
    """Why a history entry did not succeed, from its status messages."""
    status = entry.get("status")
    messages = status.get("messages") if isinstance(status, dict) else None
    for message in messages if isinstance(messages, list) else []:
        if not (isinstance(message, list) and len(message) == 2 and isinstance(message[1], dict)):
            continue
        kind, data = message
        if kind == "execution_error":
            title = titles.get(str(data.get("node_id")), data.get("node_id"))
            return (f"node {title!r} ({data.get('node_type')}) failed: {data.get('exception_type', 'error')}: "
                    f"{str(data.get('exception_message', '')).strip()}")
        if kind == "execution_interrupted":
            return "interrupted on the server"
    return f"the server reports {str(status)[:300]}"


def succeeded(entry: dict) -> bool:
    """Whether a history entry says the prompt finished successfully."""
    status = entry.get("status")
    return isinstance(status, dict) and status.get("status_str") == "success"


def progress_text(message: bytes) -> tuple[str, str] | None:
    """(node id, text) of ComfyUI's binary progress-text message (big-endian 4-byte event type 3 and node id
    length, the node id, then the text in UTF-8), on one line of printable characters, at most
    PROGRESS_TEXT_LENGTH; None for another binary message (a preview image) or a malformed one."""
    if not isinstance(message, (bytes, bytearray)) or len(message) < 8:
        return None
    event, length = struct.unpack_from(">II", message)
    if event != PROGRESS_TEXT_EVENT or length > NODE_ID_BYTES or 8 + length > len(message):
        return None
    node = bytes(message[8:8 + length]).decode(errors="replace")
    # Four bytes a character at most in UTF-8; control characters (terminal escapes) become spaces.
    text = bytes(message[8 + length:8 + length + 4 * PROGRESS_TEXT_LENGTH]).decode(errors="replace")
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return node, text[:PROGRESS_TEXT_LENGTH]
