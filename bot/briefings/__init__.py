"""Briefings and milestones: when they happen, when to remind, and firing each reminder exactly once."""
