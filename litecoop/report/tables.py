"""Markdown tables (GitHub flavour) with `tabulate`, for the reports and benches."""

from __future__ import annotations

from tabulate import tabulate


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub Markdown table of `rows` under `headers`, one line each, no trailing newline; cells are
    written as given (already formatted text: tabulate does not parse or align them as numbers)."""
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)
