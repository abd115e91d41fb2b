"""The API's JSON body parser: DRF's, with nesting bounded.

100,000 nested `[` made json.loads raise RecursionError, a 500; a body nested deeper than
MAX_DEPTH is now a 400 naming `body`, in the envelope. No field of the API nests deeper than a
few levels (a sweep: an object of lists), so the bound costs nobody anything.
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.") from None
        if _depth_exceeds(data, MAX_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        return data


def _depth_exceeds(data, limit: int) -> bool:
    """True when a list or object sits more than `limit` levels deep (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
