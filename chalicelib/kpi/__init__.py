"""KPIs: the facts the desk records, read one desk-local day at a time, and the morning digest.

- facts.py   one day's facts with one paginated Query on the day (never a Scan)
- stats.py   exact percentiles (nearest rank), shares, comparisons with arrows
- digest.py  compute(day) → the digest as JSON-able figures; send(day) archives it and queues
             one email per admin and lead; run(now) is the hourly schedule
- view.py    figures → display strings in a reader's language, for templates/digest/
- topics.py  subject keywords: tokenizer and en/uk/ru stop words
- usual.py   "we usually answer within …": the 7-day median per channel × priority, written by
             the digest as one summary item, read (cached) by the acknowledgement job
"""
