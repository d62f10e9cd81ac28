"""What ComfyUI answers, checked: a reply of another shape (not JSON, a list where an object belongs, a status that
is not one) becomes a BadReply saying what the server sent, never an AttributeError deep in the client."""
from __future__ import annotations

import json
from typing import Mapping

from .records import BadReply


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
