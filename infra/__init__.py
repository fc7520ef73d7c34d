"""The CDK app's constructs: wiring only. Every name, setting and permission comes from the
deployment manifest (baton/deploy); the logic lives in baton/ and functions/."""
