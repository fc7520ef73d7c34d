"""Helpers shared by the example agents."""
