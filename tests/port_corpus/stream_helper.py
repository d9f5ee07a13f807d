"""The chat.completions.stream() helper's events."""
from openai import OpenAI

client = OpenAI()
with client.chat.completions.stream(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Say hello world"}],
) as stream:
    for event in stream:
        if event.type == "content.delta":
            print(event.delta, end="", flush=True)
        elif event.type == "content.done":
            print()
            print("done:", event.content)
completion = stream.get_final_completion()
print(completion.choices[0].message.content, completion.choices[0].finish_reason)
