"""One model."""
from openai import OpenAI

client = OpenAI()
model = client.models.retrieve("gpt-4o")
print(model.id, model.owned_by, model.created)
print(client.models.retrieve("text-embedding-3-small").id)
