"""The agents' side: who they are (staff), how they prove it (tokens), what they may see
(access), and what they do to tickets (work)."""
