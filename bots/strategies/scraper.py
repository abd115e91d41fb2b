from bots.strategies.base import Strategy


class MarketScraper(Strategy):
    """Records market data into the archive; never trades."""

    id = "MarketScraper"
    name = "Market Scraper"
    description = "Collects market data without trading"
    supported_types = ["scraper"]
    supported_markets = ["*"]
    default_params = {"archive_interval": 60}
    param_schema = {
        "type": "object",
        "properties": {
            "archive_interval": {
                "type": "integer",
                "minimum": 1,
                "maximum": 86_400,
                "title": "Archive Interval",
                "description": "Seconds between writes to the archive.",
            },
        },
        "required": ["archive_interval"],
        "additionalProperties": False,
    }
