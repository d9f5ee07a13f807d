"""The module-level client, settings from the environment."""
import openai

response = openai.embeddings.create(model="text-embedding-3-small", input="module")
print(len(response.data[0].embedding))
print(openai.models.retrieve("gpt-4o").id)
