"""The helper's snapshots and until_done()."""
from openai import OpenAI

client = OpenAI()
with client.chat.completions.stream(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "a b c"}]
) as stream:
    for event in stream:
        if event.type == "content.delta":
            print(repr(event.snapshot))
            break
    stream.until_done()
    print(stream.current_completion_snapshot.choices[0].message.content)
