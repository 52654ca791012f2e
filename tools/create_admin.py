"""Create the first admin of a fresh stage and print their personal token (shown once).

    PROMPTLY_STAGE=prod python -m tools.create_admin --first Olena --last Koval --email olena@example.com
"""
from __future__ import annotations

import argparse

from chalicelib.agents import staff, tokens
from chalicelib.config import settings


def create(first: str, last: str, email: str) -> tuple[str, str]:
    agent = staff.create_agent(first_name=first, last_name=last, email=email, role="admin",
                               queues=list(settings().queues))
    _, token = tokens.issue(agent.agent_id)
    return agent.agent_id, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--first", required=True)
    parser.add_argument("--last", required=True)
    parser.add_argument("--email", required=True)
    args = parser.parse_args()
    agent_id, token = create(args.first, args.last, args.email)
    print(f"admin {agent_id} created. Their token (shown once, store it now):\n{token}")


if __name__ == "__main__":
    main()
