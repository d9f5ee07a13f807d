"""Asking for base64 explicitly: the vector stays a string."""
import base64
import struct

from openai import OpenAI

client = OpenAI()
response = client.embeddings.create(
    model="text-embedding-3-small", input="raw", encoding_format="base64", dimensions=4
)
encoded = response.data[0].embedding
print(type(encoded).__name__, struct.unpack("<4f", base64.b64decode(encoded)))
