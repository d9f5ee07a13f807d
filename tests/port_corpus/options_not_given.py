"""NOT_GIVEN for arguments that are sometimes absent."""
from openai import NOT_GIVEN, OpenAI

client = OpenAI()


def ask(prompt, tools=None, temperature=None):
    return client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": prompt}],
        tools=tools if tools else NOT_GIVEN,
        temperature=temperature if temperature is not None else NOT_GIVEN,
    )


print(ask("plain").choices[0].message.content)
print(ask("warm", temperature=0.9).choices[0].message.content)
