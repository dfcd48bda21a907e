// A small OTLP/HTTP JSON trace receiver for the integration tests. Each POST /v1/traces is
// decoded with the OpenTelemetry JS protobuf definitions (@opentelemetry/otlp-transformer's
// ExportTraceServiceRequest): the JSON is mapped onto the message per the OTLP/JSON rules
// (hex ids, integer enums, 64-bit integers as strings), verified, encoded to protobuf and
// decoded again, so only what survives a real OTLP decoder is kept.
//
//   node otlp_receiver.mjs [--fail-first N] [--fail-status 503] [--retry-after S] [--count-only]
//
// --count-only (benchmarks): no decoding, no storing; GET /spans then says how many requests
// and spans ("spanId" keys) arrived.
// Prints "otlp_receiver listening on 127.0.0.1:<port>". GET /spans returns what was received:
// {"requests":n,"rejected":n,"failed_on_purpose":n,"resources":[{attrs}],"spans":[...]}.
import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const root = require("@opentelemetry/otlp-transformer/build/src/generated/root.js");
const ExportTraceServiceRequest =
  root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
let failFirst = option("--fail-first", 0);
const failStatus = option("--fail-status", 503);
const retryAfter = option("--retry-after", 0);
const countOnly = args.includes("--count-only");

const state = {
  requests: 0, rejected: 0, failed_on_purpose: 0, span_count: 0, errors: [], resources: [], spans: [],
};

class BadRequest extends Error {}

const HEX = { traceId: 32, spanId: 16, parentSpanId: 16 };

// OTLP/JSON differs from the protobuf JSON mapping in its ids: hex, not base64. Everything else
// is left to the protobuf definitions.
function hexIdsToBytes(value, path = "") {
  if (Array.isArray(value)) return value.map((v, i) => hexIdsToBytes(v, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    if (key in HEX) {
      if (typeof v !== "string" || !(new RegExp(`^[0-9a-f]{${HEX[key]}}$`).test(v))) {
        throw new BadRequest(`${path}.${key}: expected ${HEX[key]} lowercase hex characters`);
      }
      out[key] = Buffer.from(v, "hex");
    } else {
      if (/_/.test(key)) throw new BadRequest(`${path}.${key}: keys are lowerCamelCase`);
      out[key] = hexIdsToBytes(v, `${path}.${key}`);
    }
  }
  return out;
}

function checkJsonTypes(request) {
  for (const rs of request.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        if (typeof span.kind !== "number") throw new BadRequest("span.kind: expected an integer");
        for (const key of ["startTimeUnixNano", "endTimeUnixNano"]) {
          if (typeof span[key] !== "string") throw new BadRequest(`span.${key}: expected a string`);
        }
        for (const a of span.attributes ?? []) {
          if ("intValue" in a.value && typeof a.value.intValue !== "string") {
            throw new BadRequest(`attribute ${a.key}: intValue must be a string`);
          }
        }
        if (span.status && typeof span.status.code !== "number") {
          throw new BadRequest("span.status.code: expected an integer");
        }
      }
    }
  }
}

function anyValue(v) {
  if (v.stringValue != null) return v.stringValue;
  if (v.intValue != null) return Number(v.intValue);
  if (v.doubleValue != null) return v.doubleValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.arrayValue != null) return (v.arrayValue.values ?? []).map(anyValue);
  return null;
}

function attributes(list) {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

function decode(text) {
  const json = JSON.parse(text);
  checkJsonTypes(json);
  const message = ExportTraceServiceRequest.fromObject(hexIdsToBytes(json));
  const problem = ExportTraceServiceRequest.verify(message);
  if (problem) throw new BadRequest(problem);
  const wire = ExportTraceServiceRequest.encode(message).finish();
  return ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(wire), {
    longs: String,
    enums: Number,
    bytes: String,
    defaults: false,
  });
}

const hex = (b64) => (b64 ? Buffer.from(b64, "base64").toString("hex") : "");

function record(decoded) {
  for (const rs of decoded.resourceSpans ?? []) {
    state.resources.push(attributes(rs.resource?.attributes));
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        state.spans.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          traceState: s.traceState ?? "",
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: s.startTimeUnixNano,
          endTimeUnixNano: s.endTimeUnixNano,
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? "" },
          scope: ss.scope?.name ?? "",
          attributes: attributes(s.attributes),
        });
      }
    }
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.method === "GET" && req.url === "/spans") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(state));
      return;
    }
    if (req.method !== "POST" || req.url !== "/v1/traces") {
      res.writeHead(404).end();
      return;
    }
    state.requests += 1;
    if (failFirst > 0) {
      failFirst -= 1;
      state.failed_on_purpose += 1;
      res.writeHead(failStatus, { "retry-after": String(retryAfter) }).end();
      return;
    }
    if (countOnly) {
      state.span_count += Buffer.concat(chunks).toString("latin1").split('"spanId"').length - 1;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      return;
    }
    try {
      if (!String(req.headers["content-type"]).startsWith("application/json")) {
        throw new BadRequest("content-type must be application/json");
      }
      record(decode(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    } catch (e) {
      state.rejected += 1;
      state.errors.push(String(e.message));
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: String(e.message) }));
    }
  });
});

server.listen(0, "127.0.0.1", () => {
  console.log(`otlp_receiver listening on 127.0.0.1:${server.address().port}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
