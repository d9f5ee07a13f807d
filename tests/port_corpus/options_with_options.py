"""with_options for one call's retries and timeout."""
from openai import OpenAI

# server: Reply(status=500)
client = OpenAI(max_retries=0)
reply = client.with_options(max_retries=3, timeout=10.0).chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "again"}]
)
print(reply.choices[0].message.content)
print(client.max_retries, client.with_options(max_retries=5).max_retries)
