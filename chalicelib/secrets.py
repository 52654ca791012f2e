"""Secrets by name: SSM Parameter Store in deployed stages, the environment on the local stage.

`/promptly/<stage>/<name>` (SecureString) is read once and cached for five minutes, so a
rotated secret takes effect without a deploy and a warm Lambda pays no call per request.
"""

from __future__ import annotations

from chalicelib import stage

CACHE_SECONDS = 300


def get(name: str) -> str:
    local = stage.local_secret(name)
    if local:
        return local
    from aws_lambda_powertools.utilities import parameters  # lazy: only stages with SSM pay it

    value = parameters.get_parameter(f"/promptly/{stage.name()}/{name}", decrypt=True, max_age=CACHE_SECONDS)
    return str(value)
