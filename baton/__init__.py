"""Baton: automation workflows compiled to AWS Step Functions, deployable with the CDK, runnable offline."""

from baton.lambda_code import use_functions

__version__ = "0.1.0"

use_functions()  # the core reads the Lambda code's contracts: table keys, variables, tenant syntax
