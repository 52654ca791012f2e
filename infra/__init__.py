"""Infrastructure: what is not a Lambda function. `local.py` builds it on the embedded AWS."""
