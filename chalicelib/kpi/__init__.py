"""KPIs: the facts the desk records, read one desk-local day at a time, and the morning digest.

- reading.py     one day's facts with one paginated Query on the day (never a Scan)
- tally.py       what one day's facts say, gathered in one pass (the digest's raw material)
- stats.py       exact percentiles (nearest rank), shares, comparisons with arrows
- digest.py      the digest's figures of a day, from the tallies of that day and the week before
- figures.py     those figures as typed dataclasses, and their JSON form (the S3 archive)
- view.py        figures → display strings in a reader's language, for templates/digest/
- mailing.py     the hourly schedule, the archive, one email per admin and lead (an outbox job)
- topics.py      subject keywords: tokenizer and en/uk/ru stop words
- usual_wait.py  "we usually answer within …": the 7-day median per channel × priority, written by
                 the digest as one summary item, read (cached) by the acknowledgement job

What each KPI means and how it is computed: docs/kpi.md.
"""
