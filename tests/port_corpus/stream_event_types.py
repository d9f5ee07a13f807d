"""Every event type the helper yields for a plain reply."""
from openai import OpenAI

client = OpenAI()
with client.chat.completions.stream(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
) as stream:
    print([event.type for event in stream])
