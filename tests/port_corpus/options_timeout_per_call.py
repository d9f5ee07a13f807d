"""A timeout on one call."""
from openai import OpenAI

client = OpenAI(timeout=30.0)
reply = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "quick"}], timeout=20.0
)
print(reply.choices[0].message.content)
