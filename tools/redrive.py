"""Move outbox jobs parked in the dead-letter queue back to the outbox, after the cause is fixed.

    PROMPTLY_STAGE=prod python -m tools.redrive      (or: make redrive STAGE=prod)
"""
from __future__ import annotations

from chalicelib import outbox, stage


def main() -> None:
    moved = outbox.redrive()
    print(f"moved {moved} job(s) from {stage.resource('outbox-dlq')} back to {stage.outbox_queue()}")


if __name__ == "__main__":
    main()
