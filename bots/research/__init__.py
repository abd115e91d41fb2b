"""Research: optimization studies and their overfitting statistics."""
