"""Attachments: files customers send and agents attach, kept in S3 one object per file under
their ticket, listed on their message (`Message.attachments`) and opened by agents through
short-lived presigned links after the same authorization as the ticket.

- `files`: what a file's entry on a message says, and keeping a file's bytes (name sanitized,
  type read from the bytes, hash, caps);
- `links`: presigned GETs (inline only for raster images) and POSTs (agents' uploads).
"""
