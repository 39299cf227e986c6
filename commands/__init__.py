"""Each feature's Slack face (and other faces, such as webhooks), the shared command kit, and the registry."""
