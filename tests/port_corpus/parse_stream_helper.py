"""The stream helper with a response_format: events, then the parsed completion."""
from openai import OpenAI
from pydantic import BaseModel


class Person(BaseModel):
    name: str
    age: int


client = OpenAI()
with client.chat.completions.stream(
    model="gpt-4o", messages=[{"role": "user", "content": "Ada, 36"}],
    response_format=Person,
) as stream:
    for event in stream:
        if event.type == "content.done":
            print("done:", event.parsed)
    completion = stream.get_final_completion()
print(completion.choices[0].message.parsed)
