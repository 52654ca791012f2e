"""The Lambda functions `chalice package` makes from app.py, and their logical ids.

Read from the Chalice app object itself (routes, event sources, pure functions), so a
schedule or queue handler someone adds to app.py shows up here without a second list.
Importing app.py creates no AWS client (chalicelib/aws.py is lazy), so this is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalice.app import CloudWatchEventConfig, ScheduledEventConfig, SNSEventConfig, SQSEventConfig
from chalice.utils import to_cfn_resource_name

API_HANDLER = "api_handler"


@dataclass(frozen=True)
class Function:
    name: str  # Chalice's name: the Python function, or "api_handler" for every route
    trigger: str  # api | sns | sqs | schedule | event | direct
    source: str = ""  # topic or queue name, or the schedule expression

    @property
    def logical_id(self) -> str:
        return "APIHandler" if self.name == API_HANDLER else to_cfn_resource_name(self.name)

    @property
    def role_logical_id(self) -> str:
        """Chalice makes one role per function when `autogen_policy` is false (dev, prod)."""
        return to_cfn_resource_name(f"{self.name}_role")


def functions() -> list[Function]:
    import app as app_module  # the project root is on sys.path for tools and tests

    app = app_module.app
    found: list[Function] = []
    if app.routes:
        found.append(Function(API_HANDLER, "api"))
    for source in app.event_sources:
        if isinstance(source, SNSEventConfig):
            found.append(Function(source.name, "sns", source.topic))
        elif isinstance(source, SQSEventConfig):
            queue = source.queue or source.queue_arn or ""  # Chalice sets one of the two
            found.append(Function(source.name, "sqs", queue))
        elif isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            found.append(
                Function(source.name, "schedule", expression if isinstance(expression, str) else expression.to_string())
            )
        elif isinstance(source, CloudWatchEventConfig):
            found.append(Function(source.name, "event"))
        else:
            raise ValueError(  # noqa: TRY004 (a kind Chalice knows and this stack does not: a setting to change)
                f"{source.name}: Chalice event source {type(source).__name__} cannot be packaged here "
                "(chalice package refuses S3 events; use SES → S3 + SNS)"
            )
    for pure in app.pure_lambda_functions:
        found.append(Function(pure.name, "direct"))
    return found


def routes() -> dict[str, list[str]]:
    """Every HTTP route of app.py → its methods (what API Gateway makes a resource and method of)."""
    import app as app_module

    return {path: sorted(methods) for path, methods in app_module.app.routes.items()}
