"""The tuning report, its tables, plots, provenance and run logs."""
