"""Workflow definitions and the agent registry: models, parsing, validation."""
