"""Azure OpenAI, streamed."""
from openai import AzureOpenAI

client = AzureOpenAI(api_version="2025-01-01-preview")
stream = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "stream on azure"}], stream=True
)
print("".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices))
