"""IRIS: a self-hosted Slack ChatOps bot for operations teams that ship automation changes carefully."""

__version__ = "0.1.0"
