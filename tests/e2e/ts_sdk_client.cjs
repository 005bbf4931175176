// An official TypeScript SDK client at one protocol revision: lists the gateway's tools, then makes each call
// given, in order.
//
//   node ts_sdk_client.cjs SDK URL REVISION CALLS_JSON
//
// SDK is "v2" (@modelcontextprotocol/client, which speaks every revision) or "v1" (@modelcontextprotocol/sdk,
// the line most clients ship today, which offers only 2025-11-25). CALLS_JSON is an array of {"name",
// "arguments"}. The API key comes from AEGIS_KEY and the packages from NODE_PATH (tests/node/package-lock.json
// pins them). Prints one JSON object: the negotiated protocol version, the tool names, and per call either
// {"result"} or {"error": {"code", "message"}} for a JSON-RPC error.
"use strict";

const MODERN = "2026-07-28";
const V1_REVISION = "2025-11-25";

function v2(revision) {
  const { Client, ProtocolError, StreamableHTTPClientTransport } = require("@modelcontextprotocol/client");
  // A 2025 revision is the one offered in the initialize handshake; 2026-07-28 is pinned through server/discover.
  const options =
    revision === MODERN
      ? { versionNegotiation: { mode: { pin: MODERN } } }
      : { supportedProtocolVersions: [revision] };
  return {
    Client,
    StreamableHTTPClientTransport,
    JsonRpcError: ProtocolError,
    options,
    negotiated: (client) => client.getNegotiatedProtocolVersion(),
  };
}

function v1(revision) {
  if (revision !== V1_REVISION) throw new Error(`the v1 SDK offers only ${V1_REVISION}, not ${revision}`);
  const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
  const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");
  const { McpError } = require("@modelcontextprotocol/sdk/types.js");
  return {
    Client,
    StreamableHTTPClientTransport,
    JsonRpcError: McpError,
    options: {},
    negotiated: (client) => client.transport.protocolVersion,
  };
}

async function outcome(sdk, client, call) {
  try {
    return { result: await client.callTool(call) };
  } catch (error) {
    if (!(error instanceof sdk.JsonRpcError)) throw error;
    return { error: { code: error.code, message: error.message } };
  }
}

async function main([sdkName, url, revision, callsJson]) {
  const sdk = { v1, v2 }[sdkName](revision);
  const client = new sdk.Client({ name: "aegis-e2e", version: "1.0.0" }, sdk.options);
  const transport = new sdk.StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${process.env.AEGIS_KEY}` } },
  });
  await client.connect(transport);
  try {
    const listed = await client.listTools();
    const calls = [];
    for (const call of JSON.parse(callsJson)) calls.push(await outcome(sdk, client, call));
    const report = {
      protocolVersion: sdk.negotiated(client),
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
