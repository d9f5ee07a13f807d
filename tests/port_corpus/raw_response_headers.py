"""The README's raw response example."""
from openai import OpenAI

client = OpenAI()
response = client.chat.completions.with_raw_response.create(
    messages=[{"role": "user", "content": "Say this is a test"}],
    model="gpt-4o",
)
print(response.headers.get("x-request-id"), response.status_code)
completion = response.parse()
print(completion.choices[0].message.content)
