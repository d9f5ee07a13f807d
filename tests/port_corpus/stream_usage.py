"""Usage on the last chunk with stream_options."""
from openai import OpenAI

client = OpenAI()
stream = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Count the tokens"}],
    stream=True,
    stream_options={"include_usage": True},
)
pieces = []
for chunk in stream:
    if chunk.choices:
        pieces.append(chunk.choices[0].delta.content or "")
    if chunk.usage:
        print("usage:", chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
print("".join(pieces))
