"""The trading engine: strategies, exchanges/feeds, archive, simulator, metrics, runners.

Pure Python: nothing in this package imports Django.
"""
