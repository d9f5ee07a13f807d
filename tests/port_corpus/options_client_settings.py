"""Client-wide retries, timeout, headers and query."""
from openai import OpenAI

client = OpenAI(
    max_retries=5,
    timeout=20.0,
    default_headers={"X-Team": "search"},
    default_query={"region": "eu"},
)
print(client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
).choices[0].message.content)
print(client.max_retries)
