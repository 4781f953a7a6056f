"""Data sources of cmltui: AWS (boto3) and the CML REST API (aiohttp)."""
