"""Render a plain-text sales report grouped by region."""


def build_report(sales: list[tuple[str, str, int, float]]) -> str:
    """Return a fixed-width report of sales lines with per-region subtotals and a grand total."""
    by_region: dict[str, list[tuple[str, int, float]]] = {}
    for region, product, qty, price in sales:
        by_region.setdefault(region, []).append((product, qty, price))

    report = "SALES REPORT\n" + "=" * 96 + "\n"
    grand_total = 0.0
    for region in sorted(by_region):
        report = report + "\nRegion: " + region + "\n"
        region_total = 0.0
        for product, qty, price in by_region[region]:
            amount = qty * price
            region_total += amount
            report = report + "  " + product.ljust(50) + str(qty).rjust(10) + f"{price:16.2f}" + f"{amount:18.2f}" + "\n"
        report = report + "  " + "Subtotal".ljust(76) + f"{region_total:18.2f}" + "\n"
        grand_total += region_total
    report = report + "=" * 96 + "\n" + "TOTAL".ljust(78) + f"{grand_total:18.2f}" + "\n"
    return report
