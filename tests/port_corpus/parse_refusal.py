"""A refused structured output: parsed is None, the refusal is in message.refusal."""
from openai import OpenAI
from pydantic import BaseModel

# server: Reply(refusal="I'm sorry, I can't help with that.")


class Answer(BaseModel):
    text: str


client = OpenAI()
completion = client.chat.completions.parse(
    model="gpt-4o", messages=[{"role": "user", "content": "Something bad"}],
    response_format=Answer)
message = completion.choices[0].message
print(message.parsed, message.refusal)
