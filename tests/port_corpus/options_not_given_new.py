"""The newer not_given spelling."""
import openai

client = openai.OpenAI()
reply = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "hi"}],
    max_tokens=openai.not_given,
)
print(reply.choices[0].message.content)
