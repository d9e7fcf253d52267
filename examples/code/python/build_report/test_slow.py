from slow import build_report

RULE = "=" * 96


def test_empty():
    assert build_report([]) == "SALES REPORT\n" + RULE + "\n" + RULE + "\n" + "TOTAL".ljust(78) + f"{0.0:18.2f}" + "\n"


def test_single_sale_layout():
    lines = build_report([("north", "Widget", 3, 2.5)]).split("\n")
    assert lines[0] == "SALES REPORT"
    assert lines[3] == "Region: north"
    assert lines[4] == "  " + "Widget".ljust(50) + "3".rjust(10) + f"{2.5:16.2f}" + f"{7.5:18.2f}"
    assert lines[5] == "  " + "Subtotal".ljust(76) + f"{7.5:18.2f}"
    assert lines[-2] == "TOTAL".ljust(78) + f"{7.5:18.2f}"
    assert lines[-1] == ""


def test_regions_sorted_and_order_kept_within_region():
    sales = [("west", "B", 1, 1.0), ("east", "A", 2, 1.0), ("west", "C", 1, 3.0)]
    text = build_report(sales)
    assert text.index("Region: east") < text.index("Region: west")
    west = text[text.index("Region: west"):]
    assert west.index("  B ") < west.index("  C ")


def test_totals():
    sales = [("a", "x", 2, 1.25), ("b", "y", 4, 0.5), ("a", "z", 1, 10.0)]
    text = build_report(sales)
    assert "  " + "Subtotal".ljust(76) + f"{12.5:18.2f}" in text
    assert "  " + "Subtotal".ljust(76) + f"{2.0:18.2f}" in text
    assert text.endswith("TOTAL".ljust(78) + f"{14.5:18.2f}" + "\n")
