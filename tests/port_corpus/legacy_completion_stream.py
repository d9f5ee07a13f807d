"""A streamed legacy completion."""
from openai import OpenAI

client = OpenAI()
for chunk in client.completions.create(
    model="gpt-3.5-turbo-instruct", prompt="Count to three", stream=True
):
    print(repr(chunk.choices[0].text), chunk.choices[0].finish_reason)
