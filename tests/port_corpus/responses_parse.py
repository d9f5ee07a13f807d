"""responses.parse with a text_format model."""
from openai import OpenAI
from pydantic import BaseModel


class CalendarEvent(BaseModel):
    name: str
    date: str
    participants: list[str]


client = OpenAI()
response = client.responses.parse(
    model="gpt-4o-2024-08-06",
    input=[{"role": "system", "content": "Extract the event information."},
           {"role": "user", "content": "Alice and Bob are going to a science fair on Friday."}],
    text_format=CalendarEvent,
)
event = response.output_parsed
print(event.name, event.date, event.participants)
