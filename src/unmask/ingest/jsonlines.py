"""Reading JSON Lines: one object per line, every bad line a reject with its line number."""

from __future__ import annotations

import json


def iter_objects(path: str):
    """Yield ``(line_number, object, reject)``; exactly one of object and reject is set.

    Lines that are not UTF-8, not JSON, or not a JSON object are rejected, never repaired.
    """
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            shown = raw[:500].decode("utf-8", errors="replace")
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield lineno, None, _reject(lineno, f"not UTF-8 text: {exc.reason} at byte {exc.start}", shown)
                continue
            except json.JSONDecodeError as exc:
                yield lineno, None, _reject(lineno, f"invalid JSON: {exc.msg} at char {exc.pos}", shown)
                continue
            if not isinstance(obj, dict):
                yield lineno, None, _reject(lineno, "line is not a JSON object", shown)
                continue
            yield lineno, obj, None


def _reject(lineno, reason, raw):
    return {"row": lineno, "column": None, "reason": reason, "raw": raw}
