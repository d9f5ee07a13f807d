"""Several choices with n."""
from openai import OpenAI

client = OpenAI()
completion = client.chat.completions.create(
    model="gpt-4o-mini", n=3, messages=[{"role": "user", "content": "Suggest a name"}]
)
for choice in completion.choices:
    print(choice.index, choice.message.content)
print(completion.usage.total_tokens)
