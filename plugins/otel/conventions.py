"""The names and numbers of the OpenTelemetry GenAI semantic conventions chatmini emits.

The GenAI conventions are still "Development": names move between releases. chatmini follows
open-telemetry/semantic-conventions v1.41.0 (April 2026), the last release that carried them
before they moved to open-telemetry/semantic-conventions-genai, whose v0.1.0 renames the client
metrics (``gen_ai.client.inference.*``). Every name below is that release's; moving to a newer
one is a change to this module (and to docs/observability.md), not to the plugin.
"""

from __future__ import annotations

import os
from typing import Mapping

from chatmini.errors import InvalidRequestError

SEMCONV_VERSION = "1.41.0"
SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"

# -- span and metric attributes ------------------------------------------------------------------
OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count"
REQUEST_STREAM = "gen_ai.request.stream"
REQUEST_ENCODING_FORMATS = "gen_ai.request.encoding_formats"
OUTPUT_TYPE = "gen_ai.output.type"
RESPONSE_ID = "gen_ai.response.id"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
TOKEN_TYPE = "gen_ai.token.type"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
OPENAI_API_TYPE = "openai.api.type"
OPENAI_REQUEST_SERVICE_TIER = "openai.request.service_tier"
OPENAI_RESPONSE_SERVICE_TIER = "openai.response.service_tier"
OPENAI_RESPONSE_SYSTEM_FINGERPRINT = "openai.response.system_fingerprint"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"
HTTP_RESEND_COUNT = "http.request.resend_count"
HTTP_STATUS_CODE = "http.response.status_code"

# Request body keys whose numbers become attributes as they are: key -> (attribute, kind).
NUMERIC_PARAMS: Mapping[str, tuple[str, type]] = {
    "max_tokens": (REQUEST_MAX_TOKENS, int),
    "max_completion_tokens": (REQUEST_MAX_TOKENS, int),
    "max_output_tokens": (REQUEST_MAX_TOKENS, int),  # the Responses API's name
    "temperature": ("gen_ai.request.temperature", float),
    "top_p": ("gen_ai.request.top_p", float),
    "top_k": ("gen_ai.request.top_k", int),
    "frequency_penalty": ("gen_ai.request.frequency_penalty", float),
    "presence_penalty": ("gen_ai.request.presence_penalty", float),
    "seed": ("gen_ai.request.seed", int),
    "dimensions": ("gen_ai.embeddings.dimension.count", int),
}

# Well-known values.
OPENAI = "openai"
AZURE_OPENAI = "azure.ai.openai"
INPUT = "input"
OUTPUT = "output"
AZURE_HOSTS = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")

# -- metrics: (name, unit, description); buckets are the conventions' ExplicitBucketBoundaries --
DURATION = ("gen_ai.client.operation.duration", "s", "GenAI operation duration.")
TOKEN_USAGE = ("gen_ai.client.token.usage", "{token}", "Number of input and output tokens used.")
TIME_TO_FIRST_CHUNK = (
    "gen_ai.client.operation.time_to_first_chunk", "s",
    "Time to receive the first chunk, from when the client issues the request.",
)
TIME_PER_OUTPUT_CHUNK = (
    "gen_ai.client.operation.time_per_output_chunk", "s",
    "Time from the end of the previous chunk to the end of this one, for each chunk after "
    "the first.",
)
SECONDS_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)
TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)

# -- message content: off unless opted in ------------------------------------------------------
CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
# The variable's values in opentelemetry-python-contrib: true/false, or (with
# OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental) where content goes. chatmini records
# content on spans only, never as events, so EVENT_ONLY captures nothing here.
_CAPTURE_VALUES = {
    "": False, "false": False, "no_content": False, "event_only": False,
    "true": True, "span_only": True, "span_and_event": True,
}


def capture_from_env(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` asks for message content."""
    value = environ.get(CAPTURE_ENV, "")
    try:
        return _CAPTURE_VALUES[value.strip().lower()]
    except KeyError:
        raise InvalidRequestError(
            f"{CAPTURE_ENV}={value!r} is not one of true, false, NO_CONTENT, SPAN_ONLY, "
            "EVENT_ONLY, SPAN_AND_EVENT"
        ) from None
