"""Azure OpenAI: the model names the deployment."""
import os

from openai import AzureOpenAI

client = AzureOpenAI(
    api_key=os.environ["AZURE_OPENAI_API_KEY"],
    api_version="2024-10-21",
    azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"],
)
reply = client.chat.completions.create(
    model="my-gpt-4o-deployment", messages=[{"role": "user", "content": "Hello Azure"}]
)
print(reply.choices[0].message.content)
print(client.embeddings.create(model="my-embedding-deployment", input="x").data[0].index)
