"""Slack plumbing every feature shares: Web API gateway, request parsing, identity, poster, manifest."""
