"""vLLM's extra sampling parameters, through extra_body."""
from openai import OpenAI

client = OpenAI()
reply = client.chat.completions.create(
    model="meta-llama/Llama-3.1-8B-Instruct",
    messages=[{"role": "user", "content": "Classify this"}],
    extra_body={
        "top_k": 20,
        "guided_choice": ["positive", "negative"],
        "chat_template_kwargs": {"enable_thinking": False},
    },
)
print(reply.choices[0].message.content)
