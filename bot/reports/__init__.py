"""The daily report: the team's day, written from what IRIS recorded, in Korean and English."""
