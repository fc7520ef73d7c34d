"""The REST API: API Gateway in front of the API function, a Cognito user pool whose users carry
their tenant (`custom:tenant`, set by an administrator, never by the user), an authorizer on
every method, one usage plan per tenant tier, access logs and X-Ray.

The resources and methods are read from the API's own OpenAPI document (generated from its
routes), so a route exists in the cloud exactly when the code serves it.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from baton.deploy.manifest import API_STAGE, API_TIERS, PAGE_TOKEN_KEY, Manifest
from baton_service.tenants import TENANT_CLAIM
from infra.acknowledgements import acknowledge_api, acknowledge_unrotated_key
from infra.functions import LOG_RETENTION, LambdaPackage, baton_function
from infra.references import References

TENANT_ATTRIBUTE = TENANT_CLAIM.removeprefix("custom:")
"""The user pool's custom attribute that Cognito's tokens carry as the tenant claim."""


def api_routes() -> dict[str, list[str]]:
    """Path → HTTP methods, from the API's OpenAPI document."""
    from api.routes import create_app, openapi_document

    document: dict[str, Any] = json.loads(openapi_document(create_app(lambda: None)))  # type: ignore[arg-type,return-value]
    return {path: [m.upper() for m in methods] for path, methods in document["paths"].items()}


class RestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        manifest: Manifest,
        package: LambdaPackage,
        references: References,
    ) -> None:
        super().__init__(scope, id)
        self.page_token_key = secretsmanager.Secret(
            self,
            "PageTokenKey",
            secret_name=manifest.service_secret_name(PAGE_TOKEN_KEY),
            description="Baton: HMAC key of the API's page tokens (generated; never shown)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
        acknowledge_unrotated_key(self.page_token_key)
        references.service_secrets[PAGE_TOKEN_KEY] = self.page_token_key
        self.function = baton_function(
            self, "Handler", manifest.api_function, package, references, layers=[package.catalog]
        )
        self.users = cognito.UserPool(
            self,
            "Users",
            user_pool_name=f"{manifest.prefix}-users",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            custom_attributes={
                TENANT_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=63, mutable=False)
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        tenant_attribute = cognito.ClientAttributes().with_custom_attributes(TENANT_ATTRIBUTE)
        self.client = self.users.add_client(
            "ApiClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            read_attributes=tenant_attribute.with_standard_attributes(email=True),
            # nobody may write their own tenant: only an administrator sets it, once
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True),
            id_token_validity=Duration.hours(1),
            prevent_user_existence_errors=True,
        )
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN
        )
        self.api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=f"{manifest.prefix}-api",
            description="Baton: executions, workflows and agents, per tenant",
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigateway.StageOptions(
                stage_name=API_STAGE,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                tracing_enabled=True,
                metrics_enabled=True,
            ),
        )
        authorizer = apigateway.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[self.users]
        )
        validator = self.api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        integration = apigateway.LambdaIntegration(self.function)
        for path, methods in api_routes().items():
            resource = self.api.root.resource_for_path(path)
            for method in methods:
                resource.add_method(
                    method,
                    integration,
                    authorizer=authorizer,
                    authorization_type=apigateway.AuthorizationType.COGNITO,
                    api_key_required=True,
                    request_validator=validator,
                )
        for tier in API_TIERS:
            plan = self.api.add_usage_plan(
                f"{tier.name}Plan",
                name=f"{manifest.prefix}-{tier.name}",
                description=f"Tenants of the {tier.name} tier (one API key per tenant)",
                throttle=apigateway.ThrottleSettings(
                    rate_limit=tier.rate_per_second, burst_limit=tier.burst
                ),
                quota=apigateway.QuotaSettings(
                    limit=tier.requests_per_month, period=apigateway.Period.MONTH
                ),
            )
            plan.add_api_stage(stage=self.api.deployment_stage)
            CfnOutput(self, f"{tier.name}UsagePlanId", value=plan.usage_plan_id)
        CfnOutput(self, "Url", value=self.api.url)
        CfnOutput(self, "UserPoolId", value=self.users.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.client.user_pool_client_id)
        acknowledge_api(self.api, self.users)
