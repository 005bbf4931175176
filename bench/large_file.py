"""Large files: a 1 MiB text file read through Aegis and through the unsecured SDK server, and a 2 MiB file
that Aegis refuses (its cap is 1 MiB).

    python -m bench.large_file [--rounds 5] [--calls 20] [--out bench/results/large_file.json]

Both files are committed to the Gitea simulator; their answers are captured from it and served by the
minimal upstream (bench/upstream.py), which also counts the bytes it sends. The servers are read in
alternated rounds, one call at a time; the report gives each one's p50, their ratio, the size of each
answer against the file's, what the 2 MiB refusal costs and fetches, and how long the secret scan of the
1 MiB text takes in this process (`scan_text`, the sanitizer's per-text work).
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench._processes import free_port, running, stop
from bench.run import MCP_HEADERS, gateway_environment
from bench.upstream import API, SERVED_PATH, derived_answers
from gateway.demo import spawn_simulator
from gateway.edge.keys import create_key
from gateway.sanitize import scan_text

HERE = Path(__file__).parent
FILES = {"1m": ("bench/large-1m.txt", 1 << 20), "2m": ("bench/large-2m.txt", 2 << 20)}
_WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
]


def text_of(size: int) -> bytes:
    """`size` bytes of plain ASCII lines (numbered words: nothing a secret detector takes for a secret)."""
    lines, total, number = [], 0, 0
    while total < size:
        number += 1
        words = " ".join(_WORDS[(number + i) % len(_WORDS)] for i in range(9))
        line = f"{number:07d} {words}\n".encode()
        lines.append(line)
        total += len(line)
    return b"".join(lines)[:size]


def call_body(filepath: str) -> dict[str, Any]:
    arguments = {"owner": "acme", "repo": "app", "filepath": filepath}
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "get_file_contents", "arguments": arguments},
    }


def capture(workdir: Path) -> tuple[str, dict[str, bytes]]:
    """Commit both files to the simulator; return its token and each file's captured ContentsResponse,
    after checking that the upstream's derived answers are the simulator's own."""
    token_file = workdir / "gitea-token"
    process, url = spawn_simulator(
        workdir / "gitea", token_file, "--token-scopes", "write:repository,read:repository"
    )
    try:
        token = token_file.read_text().strip()
        headers = {"Authorization": f"token {token}"}
        bodies = {}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as gitea:
            for name, (path, size) in FILES.items():
                content = base64.b64encode(text_of(size)).decode()
                created = gitea.post(
                    f"{API}/contents/{path}", json={"content": content, "message": f"add {path}"}
                )
                created.raise_for_status()
                bodies[name] = gitea.get(f"{API}/contents/{path}").content
                for answer_path, answer in derived_answers(f"{API}/contents/{path}", bodies[name]).items():
                    if gitea.get(answer_path).json() != json.loads(answer):
                        raise RuntimeError(f"bench.upstream's answer to {answer_path} is not the simulator's")
        return token, bodies
    finally:
        stop(process)
        if process.stdout is not None:
            process.stdout.close()


def timed_post(
    client: httpx.Client, url: str, headers: dict[str, str], body: dict[str, Any]
) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.post(url, json=body, headers=headers)
    return (time.perf_counter() - started) * 1000, response


def served_bytes(upstream: str) -> int:
    return int(httpx.get(upstream + SERVED_PATH).json()["bytes"])


def run(workdir: Path, rounds: int, calls: int) -> dict[str, Any]:
    token, bodies = capture(workdir)
    expected = text_of(FILES["1m"][1]).decode()
    body_files = []
    for name, (path, _) in FILES.items():
        (workdir / f"{name}.json").write_bytes(bodies[name])
        body_files += [str(workdir / f"{name}.json"), f"{API}/contents/{path}"]
    keys_file = workdir / "keys.json"
    key = create_key(keys_file, name="bench")
    ports = {name: free_port() for name in ("upstream", "sdk", "aegis")}
    upstream = f"http://127.0.0.1:{ports['upstream']}"
    servers = {
        "aegis": (
            f"http://127.0.0.1:{ports['aegis']}/mcp",
            {**MCP_HEADERS, "Authorization": f"Bearer {key}"},
        ),
        "sdk": (f"http://127.0.0.1:{ports['sdk']}/mcp", MCP_HEADERS),
    }
    env = gateway_environment(
        upstream=upstream, token=token, keys_file=keys_file, home=workdir, port=ports["aegis"]
    )
    latencies: dict[str, list[float]] = {name: [] for name in servers}
    sizes: dict[str, int] = {}
    with (
        running(
            ["-m", "bench.upstream", str(ports["upstream"]), body_files[0], token, *body_files[1:]],
            ready_url=f"{upstream}/",
            log=workdir / "upstream.log",
        ),
        running(
            ["-m", "bench.sdk_server", str(ports["sdk"]), upstream, token],
            ready_url=f"http://127.0.0.1:{ports['sdk']}/",
            log=workdir / "sdk.log",
        ),
        running(
            ["-m", "gateway.cli", "serve"],
            env=env,
            ready_url=f"http://127.0.0.1:{ports['aegis']}/readyz",
            log=workdir / "gateway.log",
        ),
        httpx.Client(timeout=60) as client,
    ):
        for name, (url, headers) in servers.items():
            _, response = timed_post(client, url, headers, call_body(FILES["1m"][0]))
            result = response.json()["result"]
            if result.get("isError") or expected not in result["content"][0]["text"]:
                raise RuntimeError(f"{name} does not serve the 1 MiB file: {str(result)[:500]}")
            sizes[name] = len(response.content)
            for _ in range(3):
                timed_post(client, url, headers, call_body(FILES["1m"][0]))
        for number in range(rounds):
            order = list(servers) if number % 2 == 0 else list(servers)[::-1]
            for name in order:
                url, headers = servers[name]
                latencies[name] += [
                    timed_post(client, url, headers, call_body(FILES["1m"][0]))[0] for _ in range(calls)
                ]
        url, headers = servers["aegis"]
        before = served_bytes(upstream)
        refusals = [timed_post(client, url, headers, call_body(FILES["2m"][0])) for _ in range(calls)]
        fetched = (served_bytes(upstream) - before) / len(refusals)
    refusal = refusals[-1][1].json()["result"]
    scans = []
    for _ in range(5):
        started = time.perf_counter()
        scan_text(expected)
        scans.append((time.perf_counter() - started) * 1000)
    p50 = {name: round(statistics.median(values), 2) for name, values in latencies.items()}
    file_size = FILES["1m"][1]
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "calls": {"rounds": rounds, "per_round": calls},
        "1 MiB p50 ms": p50,
        "1 MiB p50 ratio aegis/sdk": round(p50["aegis"] / p50["sdk"], 2),
        "1 MiB response bytes": sizes,
        "1 MiB response / file": {name: round(size / file_size, 3) for name, size in sizes.items()},
        "1 MiB scan_text ms (median of 5, in process)": round(statistics.median(scans), 1),
        "2 MiB refusal": {
            "p50 ms": round(statistics.median(ms for ms, _ in refusals), 2),
            "upstream bytes per call": round(fetched),
            "isError": refusal.get("isError"),
            "message": refusal["content"][0]["text"][:300],
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.large_file", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20, help="calls per server and round")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "large_file.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aegis-bench-large-") as tmp:
        report = run(Path(tmp), args.rounds, args.calls)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
