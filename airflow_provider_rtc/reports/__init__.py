"""Usage reports: which API serves each report, the windows it accepts, and tidy rows from its answers."""
