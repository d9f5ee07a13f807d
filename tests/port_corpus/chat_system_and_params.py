"""A system message and sampling parameters."""
from openai import OpenAI

client = OpenAI()
completion = client.chat.completions.create(
    model="gpt-4o",
    messages=[
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Name a prime"},
    ],
    temperature=0.2,
    max_tokens=50,
    top_p=0.9,
    seed=7,
    stop=["\n\n"],
    user="user-1234",
)
choice = completion.choices[0]
print(choice.index, choice.finish_reason, choice.message.role, choice.message.content)
