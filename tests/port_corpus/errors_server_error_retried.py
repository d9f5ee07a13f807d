"""A 500 is retried, then succeeds."""
from openai import OpenAI

# server: Reply(status=500)
client = OpenAI()
reply = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "retry me"}]
)
print(reply.choices[0].message.content)
