"""Research: optimization studies and their overfitting statistics (SPEC §20)."""
