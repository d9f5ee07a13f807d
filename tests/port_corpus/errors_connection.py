"""Nothing listening: a connection error."""
import socket

import openai
from openai import OpenAI

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
try:
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
except openai.APIConnectionError as e:
    print(type(e).__name__, isinstance(e, openai.APIError), isinstance(e, openai.OpenAIError))
