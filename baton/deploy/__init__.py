"""What a deployment is made of (names, environment, substitutions, permissions), computed once
for the CDK stack and the offline runtime alike."""

from baton.lambda_code import use_functions

use_functions()  # the manifest reads the Lambda code's contracts (table keys, variable names)
