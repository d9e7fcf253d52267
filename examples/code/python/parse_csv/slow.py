"""A small CSV reader: RFC 4180 quoting, then numbers typed as int or float."""


def convert(field: str, quoted: bool):
    """A quoted field stays text; an unquoted one becomes an int or a float if it reads as one."""
    if quoted:
        return field
    try:
        return int(field)
    except ValueError:
        pass
    try:
        return float(field)
    except ValueError:
        return field


def parse_csv(text: str) -> list[list]:
    """Rows of fields. Raises ValueError for a quote left open or text right after a closing quote."""
    rows = []
    row = []
    rest = text
    while rest:
        quoted = rest[0] == '"'
        field = ""
        if quoted:
            rest = rest[1:]
            while True:
                if rest == "":
                    raise ValueError("unterminated quoted field")
                if rest[0] == '"':
                    if rest[1:2] == '"':
                        field = field + '"'
                        rest = rest[2:]
                        continue
                    rest = rest[1:]
                    break
                field = field + rest[0]
                rest = rest[1:]
            if rest and rest[0] not in ",\r\n":
                raise ValueError(f"unexpected character after a quoted field: {rest[0]!r}")
        else:
            while rest and rest[0] not in ",\r\n":
                field = field + rest[0]
                rest = rest[1:]
        row.append(convert(field, quoted))
        if rest[:1] == ",":
            rest = rest[1:]
            if rest == "" or rest[0] in "\r\n":
                row.append(convert("", False))
        if rest[:2] == "\r\n":
            rest = rest[2:]
            rows.append(row)
            row = []
        elif rest[:1] in ("\n", "\r"):
            rest = rest[1:]
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    return rows
