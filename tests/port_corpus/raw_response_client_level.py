"""with_raw_response from the client."""
from openai import OpenAI

client = OpenAI()
response = client.with_raw_response.models.list()
print(response.status_code, response.headers["content-type"])
print([model.id for model in response.parse().data])
embedding = client.embeddings.with_raw_response.create(model="text-embedding-3-small", input="x")
print(embedding.status_code, len(embedding.parse().data[0].embedding))
