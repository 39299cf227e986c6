"""`iris demo`: IRIS, the local Slack stand-in and a Slack-like playground page, in one command."""
