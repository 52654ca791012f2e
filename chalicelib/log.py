"""Structured JSON logs (Powertools). Log ticket ids and outcomes, never bodies or addresses."""
from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="promptly")
