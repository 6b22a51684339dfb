"""One WSGI app on one port: SageMaker (control plane and runtime) here, every other service to moto."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from emulator import autoscaling, control, listing, s3io, transform_api
from emulator.asyncinf import invoke_endpoint_async
from emulator.context import Context
from emulator.errors import AwsError
from emulator.runtime import Invocation, invoke_endpoint
from emulator.validation import operation, validate_request

log = logging.getLogger(__name__)
REALTIME_MAX_BODY = 6 * 1024 * 1024
_RUNTIME_PATH = re.compile(r"^/endpoints/([^/]+)/(invocations|async-invocations)$")
_WRITES = {"PUT", "POST", "DELETE"}
_DEREGISTER = "AnyScaleFrontendService.DeregisterScalableTarget"
Handler = Callable[[Any, str, dict[str, Any]], dict[str, Any]]
ACTIONS: dict[str, Handler] = {
    "CreateModel": control.create_model,
    "DescribeModel": control.describe_model,
    "DeleteModel": control.delete_model,
    "ListModels": control.list_models,
    "CreateEndpointConfig": control.create_endpoint_config,
    "DescribeEndpointConfig": control.describe_endpoint_config,
    "DeleteEndpointConfig": control.delete_endpoint_config,
    "ListEndpointConfigs": control.list_endpoint_configs,
    "CreateEndpoint": control.create_endpoint,
    "DescribeEndpoint": control.describe_endpoint,
    "UpdateEndpoint": control.update_endpoint,
    "DeleteEndpoint": control.delete_endpoint,
    "ListEndpoints": control.list_endpoints,
    "CreateTransformJob": transform_api.create_transform_job,
    "DescribeTransformJob": transform_api.describe_transform_job,
    "StopTransformJob": transform_api.stop_transform_job,
    "ListTransformJobs": transform_api.list_transform_jobs,
    "AddTags": listing.add_tags,
    "ListTags": listing.list_tags,
    "DeleteTags": listing.delete_tags,
}
StartResponse = Callable[..., Any]


def credential_scope(environ: dict[str, Any]) -> tuple[str | None, str]:
    """(service, region) from a SigV4 Authorization header; (None, us-east-1) when unsigned."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    marker = auth.find("Credential=")
    if marker < 0:
        return None, "us-east-1"
    scope = auth[marker + 11 :].split(",", 1)[0].split("/")
    if len(scope) != 5:
        return None, "us-east-1"
    return scope[3].lower(), scope[2]


def _status(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def read_body(environ: dict[str, Any]) -> bytes:
    """The request body, as long as CONTENT_LENGTH says (empty without one)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


class EmulatorApp:
    """The WSGI callable served on the emulator's port."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Route by X-Amz-Target and path first, then the credential scope's service name."""
        path = environ.get("PATH_INFO", "")
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        service, region = credential_scope(environ)
        if target.startswith("SageMaker."):
            return self._control(environ, start_response, target[10:], region)
        runtime = _RUNTIME_PATH.match(path)
        if runtime and (service in (None, "sagemaker")):
            return self._runtime(environ, start_response, unquote(runtime[1]), runtime[2], region)
        if service == "sagemaker" and not path.endswith("BatchPutMetrics"):
            return self._control(environ, start_response, target, region)
        if target == _DEREGISTER:
            refusal = self._deregister_refusal(environ, region)
            if refusal is not None:
                return self._error(start_response, refusal, runtime=False)
        answer = self.moto(environ, start_response)
        if service == "s3" and environ.get("REQUEST_METHOD") in _WRITES:
            s3io.s3_changed.set()
        return answer

    def _deregister_refusal(self, environ: dict[str, Any], region: str) -> AwsError | None:
        """AWS's answer to deregistering a target that is not there (moto words it otherwise)."""
        raw = read_body(environ)
        environ["wsgi.input"] = io.BytesIO(raw)  # moto reads the body again
        try:
            autoscaling.deregister_check(region, json.loads(raw or b"{}"))
        except AwsError as exc:
            return exc
        except ValueError:
            return None  # not JSON: moto refuses it as AWS would
        return None

    def _reply(
        self, start_response: StartResponse, status: int, headers: dict[str, str], body: bytes
    ) -> list[bytes]:
        headers = {**headers, "x-amzn-RequestId": str(uuid.uuid4()), "Content-Length": str(len(body))}
        start_response(_status(status), list(headers.items()))
        return [body]

    def _error(self, start_response: StartResponse, error: AwsError, runtime: bool) -> list[bytes]:
        payload: dict[str, Any] = {"__type": error.code, "message": error.message}
        if runtime:
            payload["Message"] = error.message
        payload.update(error.fields)
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": error.code}
        return self._reply(start_response, error.status, headers, json.dumps(payload).encode())

    def _control(
        self, environ: dict[str, Any], start_response: StartResponse, action: str, region: str
    ) -> list[bytes]:
        try:
            op = operation(action) if action else None
            if op is None:
                raise AwsError(
                    "UnknownOperationException",
                    f"The action {action or '(none)'} is not valid for SageMaker.",
                )
            handler = ACTIONS.get(action)
            if handler is None:
                raise AwsError("UnknownOperationException", f"The emulator does not implement {action}.")
            raw = read_body(environ)
            try:
                params = json.loads(raw or b"{}")
            except ValueError as exc:
                raise AwsError(
                    "SerializationException", f"The request body is not valid JSON: {exc}"
                ) from exc
            validate_request(op, params)
            answer = handler(self.ctx.store, region, params)
        except AwsError as exc:
            return self._error(start_response, exc, runtime=False)
        except Exception as exc:  # never let a bug take the connection down: answer as AWS does
            log.exception("SageMaker.%s failed", action)
            return self._error(
                start_response, AwsError("InternalFailure", str(exc), status=500), runtime=False
            )
        body = json.dumps(answer).encode()
        return self._reply(start_response, 200, {"Content-Type": "application/x-amz-json-1.1"}, body)

    def _runtime(
        self, environ: dict[str, Any], start_response: StartResponse, endpoint: str, kind: str, region: str
    ) -> list[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if kind == "invocations" and length > REALTIME_MAX_BODY:
            # AWS's front end refuses the body before SageMaker sees it: a bare 413, no error type.
            message = f"HTTP content length exceeded {REALTIME_MAX_BODY} bytes.".encode()
            return self._reply(start_response, 413, {"Content-Type": "text/plain"}, message)
        async_call = kind == "async-invocations"
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        invocation = Invocation(
            region=region,
            endpoint=endpoint,
            body=read_body(environ),
            content_type=(
                headers.get("x-amzn-sagemaker-content-type") if async_call else environ.get("CONTENT_TYPE")
            )
            or "application/octet-stream",
            accept=headers.get("x-amzn-sagemaker-accept") if async_call else headers.get("accept"),
            target_model=headers.get("x-amzn-sagemaker-target-model"),
            target_hostname=headers.get("x-amzn-sagemaker-target-container-hostname"),
            target_variant=headers.get("x-amzn-sagemaker-target-variant"),
        )
        try:
            if async_call:
                status, answer, body = invoke_endpoint_async(self.ctx, invocation, headers)
            else:
                status, answer, body = invoke_endpoint(self.ctx, invocation)
        except AwsError as exc:
            return self._error(start_response, exc, runtime=True)
        except Exception as exc:
            log.exception("runtime call to %s failed", endpoint)
            return self._error(
                start_response, AwsError("InternalFailure", str(exc), status=500), runtime=True
            )
        return self._reply(start_response, status, answer, body)
