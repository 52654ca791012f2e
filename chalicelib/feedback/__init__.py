"""The customer's word after the work is done, through signed links (chalicelib/links.py):

- confirm  "is it solved?": yes closes the ticket, no reopens it; silence closes it later.
- csat     good / bad (and a comment) on a solved ticket, changeable until the desk closes it;
           a bad one alerts the owner and the queue's leads (rating_alert).
- nps      "how likely are you to recommend us?" 0–10, at most once per period per customer.
- pages    what the three share: token → ticket → a page in the ticket's language.

Every link opens a page whose buttons POST the answer: mail scanners that prefetch links
must never answer on the customer's behalf.
"""
