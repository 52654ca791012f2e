"""Service-level agreements: business-hours clock and due-date arithmetic."""
