"""What an MCP tool call returned, as the text the model is handed, cut to the role's size.

Text parts are joined; structured content (JSON) stands in when there is no text; images, audio and
binary resources are named, never inlined (a voice model cannot use them); resource links show their
URI. A result longer than the cap is cut, and the model is told so and by how much.
"""

from __future__ import annotations

import json

import mcp_types


def result_text(result: mcp_types.CallToolResult, cap: int) -> tuple[str, bool]:
    """The result as text of at most `cap` characters (plus a note when cut), and whether it was cut."""
    parts = [_part(block) for block in result.content]
    text = "\n".join(p for p in parts if p)
    if not any(isinstance(b, mcp_types.TextContent) for b in result.content) and result.structured_content:
        structured = json.dumps(result.structured_content, ensure_ascii=False, separators=(",", ":"))
        text = f"{structured}\n{text}" if text else structured
    if not text:
        text = "(the tool returned nothing)"
    if len(text) <= cap:
        return text, False
    note = f"\n[cut: the result has {len(text)} characters; only the first {cap} are shown]"
    return text[:cap] + note, True


def _part(block: mcp_types.ContentBlock) -> str:
    if isinstance(block, mcp_types.TextContent):
        return block.text
    if isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
        return f"[{block.type} ({block.mime_type}) not shown]"
    if isinstance(block, mcp_types.ResourceLink):
        return f"[resource {block.name}: {block.uri}]"
    if isinstance(block, mcp_types.EmbeddedResource):
        resource = block.resource
        if isinstance(resource, mcp_types.TextResourceContents):
            return resource.text
        return f"[binary resource {resource.uri} not shown]"
    return ""  # a content type newer than this worker
