"""The legacy Completions API."""
from openai import OpenAI

client = OpenAI()
completion = client.completions.create(
    model="gpt-3.5-turbo-instruct", prompt="Say this is a test", max_tokens=7, temperature=0
)
print(completion.choices[0].text, completion.choices[0].finish_reason)
print(completion.object, completion.usage.total_tokens)
