"""Promptly: a serverless support desk. See README.md for the map of this package."""
