"""What a deployment is made of (names, environment, substitutions, permissions), computed once
for the CDK stack and the offline runtime alike."""
