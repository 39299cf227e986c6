"""Incident alerts: webhook payloads in, alert groups stored, routed and kept current (no Slack here)."""
