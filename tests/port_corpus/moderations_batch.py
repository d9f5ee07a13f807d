"""Several inputs, default model."""
from openai import OpenAI

client = OpenAI()
response = client.moderations.create(input=["a kind word", "I hate you"])
print([r.flagged for r in response.results], response.model)
print(response.results[1].categories.harassment, response.results[1].categories.hate_threatening)
