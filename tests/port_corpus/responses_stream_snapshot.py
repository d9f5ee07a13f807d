"""The Responses stream helper: each text delta's snapshot, then the final response."""
from openai import OpenAI

client = OpenAI()
with client.responses.stream(model="gpt-4o-mini", input="one two three") as stream:
    for event in stream:
        if event.type == "response.output_text.delta":
            print(repr(event.delta), repr(event.snapshot))
    final = stream.get_final_response()
print(final.output_text)
