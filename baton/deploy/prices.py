"""Published AWS prices (us-east-1, on-demand, past any free tier), in US dollars per unit.

Read from the services' pricing pages; each figure says what it is per. Free tiers are left
out: a cost estimate that depends on what else the account runs would mislead.
"""

from __future__ import annotations

from dataclasses import dataclass

PER_MILLION = 1e-6
PER_THOUSAND = 1e-3


@dataclass(frozen=True)
class Prices:
    region: str = "us-east-1"
    standard_transition: float = 0.025 * PER_THOUSAND
    """Step Functions Standard: $0.025 per 1,000 state transitions."""
    express_request: float = 1.00 * PER_MILLION
    """Step Functions Express: $1.00 per million executions started."""
    express_gb_second: float = 0.00001667
    """Step Functions Express: per GB-second of an execution (the first 1,000 GB-hours a month)."""
    express_memory_mb: int = 64
    """Express bills memory in 64 MB chunks; a run whose data stays under 256 KB uses one."""
    express_increment_ms: int = 100
    """Express bills duration in 100 ms increments, rounded up."""
    lambda_request: float = 0.20 * PER_MILLION
    """Lambda: $0.20 per million invocations."""
    lambda_gb_second: float = 0.0000133334
    """Lambda on arm64 (Baton's architecture, baton.deploy.layer): per GB-second, billed per ms."""
    api_request: float = 3.50 * PER_MILLION
    """API Gateway REST API: $3.50 per million requests (the first 333 million a month)."""
    dynamodb_write_unit: float = 0.625 * PER_MILLION
    """DynamoDB on-demand: $0.625 per million write request units (1 KB each; 2 per KB of each
    item of a transaction)."""
    dynamodb_read_unit: float = 0.125 * PER_MILLION
    """DynamoDB on-demand: $0.125 per million read request units (a strongly consistent read
    of up to 4 KB)."""
    s3_put: float = 0.005 * PER_THOUSAND
    """S3 Standard: $0.005 per 1,000 PUT requests."""
    s3_get: float = 0.0004 * PER_THOUSAND
    """S3 Standard: $0.0004 per 1,000 GET requests."""
    event: float = 1.00 * PER_MILLION
    """EventBridge: $1.00 per million custom events published (64 KB each)."""
    sns_publish: float = 0.50 * PER_MILLION
    """SNS: $0.50 per million publishes (deliveries to subscribers are billed apart)."""
    secrets_call: float = 0.05 / 10_000
    """Secrets Manager: $0.05 per 10,000 API calls."""


PUBLISHED = Prices()
