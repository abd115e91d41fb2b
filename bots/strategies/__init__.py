"""Built-in strategies, one module each; found by bots.strategies.registry."""
