"""A stream as a context manager, closed on exit."""
from openai import OpenAI

client = OpenAI()
with client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Stream and stop early"}],
    stream=True,
) as stream:
    for number, chunk in enumerate(stream):
        if number == 2:
            break
        print(repr(chunk.choices[0].delta.content))
print("closed")
