"""Listing models."""
from openai import OpenAI

client = OpenAI()
for model in client.models.list():
    print(model.id, model.object, model.owned_by)
