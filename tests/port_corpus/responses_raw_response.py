"""A raw response on the Responses API: headers, then parse()."""
from openai import OpenAI

client = OpenAI()
raw = client.responses.with_raw_response.create(model="gpt-4o-mini", input="hi")
print(raw.headers.get("x-request-id") is not None)
print(raw.parse().output_text)
