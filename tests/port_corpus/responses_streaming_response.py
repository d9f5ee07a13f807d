"""with_streaming_response on the Responses API."""
from openai import OpenAI

client = OpenAI()
with client.responses.with_streaming_response.create(model="gpt-4o-mini", input="hi") as response:
    print(response.status_code)
    print(response.parse().output_text)
