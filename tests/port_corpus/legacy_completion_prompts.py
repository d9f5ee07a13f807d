"""Several prompts and n, as local servers are used."""
from openai import OpenAI

client = OpenAI()
completion = client.completions.create(
    model="gpt-3.5-turbo-instruct", prompt=["first", "second"], n=2, echo=False
)
print([(c.index, c.text) for c in completion.choices])
