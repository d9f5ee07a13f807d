"""Token arrays as input."""
from openai import OpenAI

client = OpenAI()
response = client.embeddings.create(
    model="text-embedding-ada-002", input=[[1820, 25, 220], [40, 1093]]
)
print([len(d.embedding) for d in response.data], response.usage.prompt_tokens)
