"""Shorter vectors, as JSON floats."""
from openai import OpenAI

client = OpenAI()
response = client.embeddings.create(
    model="text-embedding-3-large", input="hello", dimensions=8, encoding_format="float"
)
print(response.data[0].embedding)
