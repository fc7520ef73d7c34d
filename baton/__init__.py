"""Baton: automation workflows compiled to AWS Step Functions, deployable with the CDK, runnable offline."""

__version__ = "0.1.0"
