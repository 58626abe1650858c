"""The durable delivery pipeline for script hooks and webhooks."""
