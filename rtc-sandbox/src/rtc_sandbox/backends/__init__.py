"""Per-cloud state and business rules, free of HTTP so they can be driven and tested directly."""
