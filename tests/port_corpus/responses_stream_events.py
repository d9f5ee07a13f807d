"""Streaming a response: the event loop over output_text deltas."""
from openai import OpenAI

client = OpenAI()
stream = client.responses.create(model="gpt-4o", input="Write a one-sentence bedtime story.", stream=True)
for event in stream:
    if event.type == "response.output_text.delta":
        print(event.delta, end="")
    elif event.type == "response.completed":
        print()
        print(event.response.usage.output_tokens, event.sequence_number)
