"""The moderation guide's example."""
from openai import OpenAI

client = OpenAI()
response = client.moderations.create(model="omni-moderation-latest", input="I want to kill them.")
result = response.results[0]
print(result.flagged, result.categories.violence, result.categories.self_harm)
print(result.category_scores.violence > 0.5, result.category_applied_input_types.violence)
