"""Summarise tab-separated log lines described by a JSON schema header."""
import json


def _load_schema(header: str) -> tuple[list[str], dict[str, str]]:
    schema = json.loads(header)
    fields = [f["name"] for f in schema["fields"]]
    levels = {alias.lower(): level for level, aliases in schema["levels"].items() for alias in aliases}
    return fields, levels


def parse_log_lines(header: str, lines: list[str]) -> dict[str, dict[str, int]]:
    """Count log entries per service and normalized level, skipping malformed lines."""
    counts: dict[str, dict[str, int]] = {}
    for line in lines:
        fields, levels = _load_schema(header)
        parts = line.rstrip("\n").split("\t")
        if len(parts) != len(fields):
            continue
        entry = dict(zip(fields, parts))
        level = levels.get(entry["level"].lower(), "unknown")
        per_service = counts.setdefault(entry["service"], {})
        per_service[level] = per_service.get(level, 0) + 1
    return counts
