"""omit: leave a parameter out, and remove a default header for one call."""
import openai

client = openai.OpenAI(default_headers={"X-Team": "search", "X-Env": "dev"})
reply = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "hi"}],
    temperature=openai.omit,
    extra_headers={"X-Env": openai.omit},
)
print(reply.choices[0].message.content)
print(isinstance(openai.omit, openai.Omit))
