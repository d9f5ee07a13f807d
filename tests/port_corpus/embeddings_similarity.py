"""The cookbook's cosine similarity."""
import math

from openai import OpenAI

client = OpenAI()


def embed(text):
    return client.embeddings.create(model="text-embedding-3-small", input=text).data[0].embedding


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


print(round(cosine(embed("cat"), embed("cat")), 4))
print(round(cosine(embed("cat"), embed("dog")), 4))
