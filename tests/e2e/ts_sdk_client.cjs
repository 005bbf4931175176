// The official TypeScript SDK client (@modelcontextprotocol/client) at one protocol revision: lists the
// gateway's tools, then makes each call given, in order.
//
//   node ts_sdk_client.cjs URL REVISION CALLS_JSON
//
// CALLS_JSON is an array of {"name", "arguments"}. The API key comes from AEGIS_KEY and the SDK from NODE_PATH
// (tests/node/package-lock.json pins it). Prints one JSON object: the negotiated protocol version, the tool
// names, and per call either {"result"} or {"error": {"code", "message"}} for a JSON-RPC error.
"use strict";
const { Client, ProtocolError, StreamableHTTPClientTransport } = require("@modelcontextprotocol/client");

const MODERN = "2026-07-28";

async function outcome(client, call) {
  try {
    return { result: await client.callTool(call) };
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return { error: { code: error.code, message: error.message } };
  }
}

async function main([url, revision, callsJson]) {
  // A 2025 revision is the one offered in the initialize handshake; 2026-07-28 is pinned through server/discover.
  const options =
    revision === MODERN
      ? { versionNegotiation: { mode: { pin: MODERN } } }
      : { supportedProtocolVersions: [revision] };
  const client = new Client({ name: "aegis-e2e", version: "1.0.0" }, options);
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${process.env.AEGIS_KEY}` } },
  });
  await client.connect(transport);
  try {
    const listed = await client.listTools();
    const calls = [];
    for (const call of JSON.parse(callsJson)) calls.push(await outcome(client, call));
    const report = {
      protocolVersion: client.getNegotiatedProtocolVersion(),
      tools: listed.tools.map((tool) => tool.name),
      calls,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await client.close();
  }
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
