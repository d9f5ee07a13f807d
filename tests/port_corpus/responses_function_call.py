"""The function-calling round trip on the Responses API."""
# server: Reply(tool_calls=[{"name": "get_horoscope", "arguments": "{\"sign\": \"Aquarius\"}"}])
import json

from openai import OpenAI

client = OpenAI()
tools = [{"type": "function", "name": "get_horoscope", "description": "Get today's horoscope.",
          "parameters": {"type": "object", "properties": {"sign": {"type": "string"}},
                         "required": ["sign"]}}]
input_list = [{"role": "user", "content": "What is my horoscope? I am an Aquarius."}]
response = client.responses.create(model="gpt-5", tools=tools, input=input_list)
input_list += response.output
for item in response.output:
    if item.type == "function_call":
        if item.name == "get_horoscope":
            sign = json.loads(item.arguments)["sign"]
            input_list.append({"type": "function_call_output", "call_id": item.call_id,
                               "output": json.dumps({"horoscope": sign + ": good day"})})
response = client.responses.create(model="gpt-5", instructions="Respond only with a horoscope.",
                                   tools=tools, input=input_list)
print(response.model_dump_json(indent=2)[:1] , response.output_text)
