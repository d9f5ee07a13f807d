"""Watching finish_reason and roles while streaming."""
from openai import OpenAI

client = OpenAI()
stream = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "one two"}], stream=True
)
for chunk in stream:
    choice = chunk.choices[0]
    if choice.delta.role:
        print("role", choice.delta.role)
    if choice.finish_reason:
        print("finish", choice.finish_reason)
