"""Extra headers and query parameters on one call."""
from openai import OpenAI

client = OpenAI()
reply = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "tagged"}],
    extra_headers={"X-Trace-Id": "trace-42"},
    extra_query={"tenant": "acme", "debug": "1"},
)
print(reply.choices[0].message.content)
