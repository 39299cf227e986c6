"""Local stand-ins for Slack, used by tests and by `iris demo`."""
