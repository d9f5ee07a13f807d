"""d. Memory: how much a process grows to import each client and make one call, fresh each time.

Each run is a new interpreter that reads its resident set size (``VmRSS`` and the peak
``VmHWM`` in /proc/self/status; elsewhere ``ru_maxrss``) before importing anything, after the
import, and after one non-streamed call to the embedded server. Nothing else is imported
before the first reading, so the growth is the client's own.
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from adapters import MODEL, OPENAI_MISSING
from harness import (
    Panel,
    Table,
    Target,
    fresh_interpreter_env,
    median,
    num,
    ratios,
    round_robin,
    run_python,
    spread,
    times,
)

if TYPE_CHECKING:
    from sections import Context

# The reading itself imports nothing: /proc is read with the builtin open(), and the
# fallback (no /proc, e.g. macOS) only has the peak, in bytes on macOS and KiB elsewhere.
READ_RSS = '''
def rss():
    try:
        with open("/proc/self/status") as f:
            fields = dict(line.split(":", 1) for line in f)
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
    except OSError:
        import resource, sys
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak //= 1024 if sys.platform == "darwin" else 1
        return peak, peak
'''
SCRIPT = '''{read_rss}
start = rss()
{imports}
imported = rss()
URL, HOST, PORT, MODEL = {url!r}, {host!r}, {port!r}, {model!r}
BODY = {{"model": MODEL, "messages": [{{"role": "user", "content": "hi"}}]}}
{call}
assert text == "echo: hi", text
called = rss()
print(*start, *imported, *called)
'''
CLIENTS = {  # name -> (imports, one call leaving the reply's text in ``text``)
    "bare interpreter": ("", "text = 'echo: hi'"),
    # sys.modules["orjson"] = None: chatmini as installed without chatmini[speed]
    "chatmini": ("import sys; sys.modules['orjson'] = None; import chatmini", """
client = chatmini.Client(api_key="k", base_url=URL)
text = client.chat.completions.create(**BODY).choices[0].message.content"""),
    "openai": ("import openai", """
client = openai.OpenAI(api_key="k", base_url=URL)
text = client.chat.completions.create(**BODY).choices[0].message.content"""),
    "requests": ("import requests", """
reply = requests.Session().post(URL + "/chat/completions", json=BODY,
                                headers={"Authorization": "Bearer k"})
reply.raise_for_status()
text = reply.json()["choices"][0]["message"]["content"]"""),
    "bare http.client": ("import http.client, json", """
conn = http.client.HTTPConnection(HOST, PORT)
conn.request("POST", "/v1/chat/completions", json.dumps(BODY).encode(),
             {"Content-Type": "application/json", "Authorization": "Bearer k"})
text = json.loads(conn.getresponse().read())["choices"][0]["message"]["content"]"""),
}
BASE = "chatmini"
SDK = "openai"


def script(name: str, base_url: str) -> str:
    """The child's whole program for one client."""
    imports, call = CLIENTS[name]
    parts = urlsplit(base_url)
    return SCRIPT.format(read_rss=READ_RSS, imports=imports, call=call, url=base_url,
                         host=parts.hostname, port=parts.port, model=MODEL)


def measure_child(name: str, base_url: str, workdir: str, env: dict[str, str]) -> dict[str, float]:
    """One fresh interpreter: growth in MiB after the import, after the call, and of the peak."""
    out = run_python(script(name, base_url), workdir, env)[1].split()
    rss0, peak0, rss1, _, rss2, peak2 = (int(x) / 1024 for x in out)
    return {"import": rss1 - rss0, "call": rss2 - rss0, "peak": peak2 - peak0, "start": rss0}


def bench_memory(ctx: Context) -> Table:
    """d. RSS growth for import plus one call, each client in its own fresh interpreter."""
    s = ctx.settings
    names = [n for n in CLIENTS if n != SDK or ctx.has_openai]
    url = ctx.server.base_url
    with tempfile.TemporaryDirectory(prefix="chatmini-bench-") as workdir:
        env = fresh_interpreter_env(workdir)
        for name in names:
            measure_child(name, url, workdir, env)  # write the .pyc files first
        res = round_robin(names, s.memory_runs, lambda n: measure_child(n, url, workdir, env))
    table = Table(
        f"d. Memory: RSS growth for import plus one call, {s.memory_runs} fresh interpreters "
        "each",
        ["client", "after import MiB", "after import + one call MiB", "× chatmini",
         "peak growth MiB"],
    )
    for name, r in res.items():
        table.rows.append([
            name, spread(r["import"]), spread(r["call"]),
            "—" if name == "bare interpreter" else times(median(ratios(r["call"],
                                                                        res[BASE]["call"]))),
            spread(r["peak"]),
        ])
    table.notes.append(
        f"Growth = resident set size after − before, read from /proc/self/status in the child "
        f"before anything is imported (a bare interpreter starts at about "
        f"{num(median(res['bare interpreter']['start']))} MiB). 'bare interpreter' makes no "
        "call: it shows the noise. Bytecode is cached, as for import time."
    )
    if SDK in res:
        growth = median(res[BASE]["call"]) / median(res[SDK]["call"])
        target = Target("memory growth, import + one call", "≤ 0.5× openai",
                        f"{times(growth)} openai", growth <= 0.5)
    else:
        table.notes.append(f"openai rows skipped: {OPENAI_MISSING}.")
        target = Target("memory growth, import + one call", "≤ 0.5× openai", OPENAI_MISSING,
                        None)
    table.targets.append(target)
    table.panels.append(Panel("Memory growth, import + one call", "MiB", {
        name: median(r["call"]) for name, r in res.items() if name != "bare interpreter"
    }))
    return table
