"""The agents' console: server-rendered pages under /console, signed in by an emailed code."""
