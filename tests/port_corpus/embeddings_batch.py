"""Several inputs in one request."""
from openai import OpenAI

client = OpenAI()
texts = ["first document", "second one", "a third, longer document"]
response = client.embeddings.create(model="text-embedding-3-small", input=texts)
for item in response.data:
    print(item.index, item.object, len(item.embedding), item.embedding[0])
