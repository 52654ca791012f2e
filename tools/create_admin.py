"""Create the first admin of a fresh stage and print their personal token (shown once).

PROMPTLY_STAGE=prod python -m tools.create_admin --first Olena --last Koval --email olena@example.com
python -m tools.create_admin --local ...        (the desk `make run` started here, on any ports)
PROMPTLY_STAGE=prod python -m tools.create_admin --reindex-leaders
    once, on a stage whose admins and leads were created before the `staff#leaders`,
    `staff#admins` and `leads#<queue>` sets (the digest's readers, the guard that keeps one
    active admin, the SLA watch's escalation) and each agent's `tokens#<agent>` set (their
    list of tokens), or whose agents predate the console's `agentemail#<address>` keys (their
    sign-in: without it an agent gets no code): rebuilds them from the agents table and the
    token records and lists the admins and leads. Until `staff#admins` is built, no admin can
    be demoted. It also gives every live ticket its current index keys (the console queue's
    views: by_queue's bands, by_owner's lanes) and its owner's name (tickets.reindex_live).
"""

from __future__ import annotations

import argparse
import sys

from tools import local_desk


def create(first: str, last: str, email: str) -> tuple[str, str]:
    from chalicelib.agents import staff, tokens  # after the environment is set: tables are named at import
    from chalicelib.config import settings

    agent = staff.create_agent(
        first_name=first, last_name=last, email=email, role="admin", queues=list(settings().queues)
    )
    return agent.agent_id, tokens.issue(agent.agent_id).token


def reindex() -> list[str]:
    """The `staff#leaders`, `staff#admins` and `leads#<queue>` sets and every agent's
    `agentemail#<address>` sign-in key rebuilt from the agents table, every agent's
    `tokens#<agent>` set from the token records, and every live ticket's index keys."""
    from chalicelib import tickets
    from chalicelib.agents import staff, tokens

    tokens.reindex_tokens()
    staff.reindex_emails()
    tickets.reindex_live()
    return staff.reindex_leaders()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--first")
    parser.add_argument("--last")
    parser.add_argument("--email")
    parser.add_argument("--local", action="store_true", help="the running local desk (make run), on whatever ports")
    parser.add_argument(
        "--reindex-leaders",
        action="store_true",
        help="rebuild the digest readers' and queue leads' sets, the token lists and the console's "
        "sign-in keys (agentemail#) from the agents table, and live tickets' index keys; create nobody",
    )
    args = parser.parse_args()
    if not args.reindex_leaders and not (args.first and args.last and args.email):
        parser.error("--first, --last and --email are required (or --reindex-leaders)")
    local_desk.logs_to_stderr()  # stdout is the token alone
    if args.local:
        local_desk.follow(local_desk.running())
    if "chalicelib.models" in sys.modules:
        raise SystemExit("set the environment before importing the models")
    if args.reindex_leaders:
        print("admins and leads:", ", ".join(reindex()) or "none")
        return
    agent_id, token = create(args.first, args.last, args.email)
    # the token alone on stdout, so `TOKEN=$(python -m tools.create_admin ...)` keeps it
    print(f"admin {agent_id} created. Their token (shown once, store it now):", file=sys.stderr)
    print(token)


if __name__ == "__main__":
    main()
