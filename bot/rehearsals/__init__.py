"""The rehearsal engine: scenarios, the fault proxy and its ledger, analysis and the runner; no Slack here."""
