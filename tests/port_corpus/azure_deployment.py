"""Azure OpenAI with a fixed deployment, settings from the environment."""
from openai import AzureOpenAI

client = AzureOpenAI(azure_deployment="chat-prod")
reply = client.chat.completions.create(
    model="ignored-here", messages=[{"role": "user", "content": "Hi deployment"}]
)
print(reply.choices[0].message.content)
print([m.id for m in client.models.list()])
