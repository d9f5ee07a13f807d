"""One embedding."""
from openai import OpenAI

client = OpenAI()
response = client.embeddings.create(model="text-embedding-3-small", input="The food was delicious")
vector = response.data[0].embedding
print(len(vector), round(sum(v * v for v in vector), 3))
print(response.model, response.object, response.usage.prompt_tokens, response.usage.total_tokens)
print(vector[:3])
