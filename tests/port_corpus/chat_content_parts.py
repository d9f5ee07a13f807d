"""Content given as a list of parts."""
from openai import OpenAI

client = OpenAI()
reply = client.chat.completions.create(
    model="gpt-4o",
    messages=[{"role": "user", "content": [{"type": "text", "text": "Describe this"}]}],
)
print(reply.choices[0].message.content)
