"""Remove duplicate customer records, keeping the first occurrence of each."""


def _record_key(record: dict) -> tuple:
    return (record["country"].upper(), record["email"].strip().lower())


def dedupe_records(records: list[dict]) -> list[dict]:
    """Return records with duplicates (same email and country) removed, order preserved."""
    seen = []
    unique = []
    for record in records:
        key = _record_key(record)
        if key not in seen:
            seen.append(key)
            unique.append(record)
    return unique
