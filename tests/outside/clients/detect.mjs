#!/usr/bin/env node
// A face-detect client as a team would write it from Alibaba's docs (emo-detect-api): Node 18+,
// the built-in fetch, no packages. tests/outside/test_any_client.py runs it against the stub.
//
//   DASHSCOPE_API_KEY=sk-... node detect.mjs BASE_URL IMAGE_URL [RATIO]
//
// BASE_URL is the API root (https://dashscope.aliyuncs.com/api/v1). The key is read from the
// environment, never from the command line (where `ps` shows it), and never printed.
// Prints one line of JSON:
//   {"status":200,"verdict":true,"boxes":{"face_bbox":[...],"ext_bbox":[...]},"request_id":"..."}
//   {"status":200,"verdict":false,"code":"InvalidFile.NoHuman","message":"...","request_id":"..."}
//   {"status":401,"verdict":null,"code":"InvalidApiKey","message":"...","request_id":"..."}
// and, when the answer is not what the docs describe, {"status":..,"error":"..."}: no answer
// in time or a broken connection ("no answer: ..."), a body cut short ("the answer was cut
// short: ..."), a page that is not JSON (a gateway's 502/504). A refusal that carries a
// Retry-After header adds it as given: {"status":429,...,"retry_after":"2"}.
// Exit status: 0 the check passed, 1 it failed or the request was refused, 3 an answer not as
// documented (or no answer), 4 a usage error. DETECT_TIMEOUT: seconds for the whole call
// (default 30).

const PATH = "/services/aigc/image2video/face-detect";
const MODEL = "emo-detect-v1";
const BOX_FIELDS = ["face_bbox", "ext_bbox"];

function usage(message) {
  process.stderr.write(
    `detect.mjs: ${message}\n` +
      "usage: DASHSCOPE_API_KEY=sk-... node detect.mjs BASE_URL IMAGE_URL [RATIO]\n",
  );
  process.exit(4);
}

function print(summary, exitCode) {
  process.stdout.write(JSON.stringify(summary) + "\n");
  process.exit(exitCode);
}

function isBox(value) {
  return (
    Array.isArray(value) &&
    value.length === 4 &&
    value.every((n) => Number.isInteger(n) && n >= 0) &&
    value[0] < value[2] &&
    value[1] < value[3]
  );
}

const text = (value) => (typeof value === "string" ? value : null);

function timeoutMs() {
  const given = process.env.DETECT_TIMEOUT;
  if (given === undefined || given === "") return 30_000;
  const seconds = Number(given);
  if (!Number.isFinite(seconds) || seconds <= 0) usage(`DETECT_TIMEOUT is ${JSON.stringify(given)}: give seconds > 0`);
  return Math.ceil(seconds * 1000);
}

const why = (err) => err?.cause?.code ?? err?.name ?? "unknown";

async function main() {
  const [baseUrl, imageUrl, ratio = "1:1"] = process.argv.slice(2);
  if (!baseUrl || !imageUrl) usage("BASE_URL and IMAGE_URL are required");
  const key = process.env.DASHSCOPE_API_KEY;
  if (!key) usage("DASHSCOPE_API_KEY is not set: export your API key");
  const timeout = timeoutMs();

  let response;
  try {
    response = await fetch(baseUrl.replace(/\/+$/, "") + PATH, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ model: MODEL, input: { image_url: imageUrl }, parameters: { ratio } }),
      signal: AbortSignal.timeout(timeout),
    });
  } catch (err) {
    print({ status: null, error: `no answer: ${why(err)}` }, 3);
  }
  const status = response.status;
  // The body read on its own: a connection cut mid-body (or the deadline passing while it
  // arrives) is a broken answer, not one "that is not JSON".
  let raw;
  try {
    raw = await response.text();
  } catch (err) {
    print({ status, error: `the answer was cut short: ${why(err)}` }, 3);
  }
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    print({ status, error: "the answer is not JSON" }, 3);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    print({ status, error: "the answer is not a JSON object" }, 3);
  }
  const requestId = text(body.request_id);

  if (status !== 200) {
    const code = text(body.code);
    if (code === null) print({ status, error: "an error answer without a code", request_id: requestId }, 3);
    const summary = { status, verdict: null, code, message: text(body.message), request_id: requestId };
    const retryAfter = response.headers.get("retry-after");
    print(retryAfter === null ? summary : { ...summary, retry_after: retryAfter }, 1);
  }
  const output = body.output;
  if (output === null || typeof output !== "object" || typeof output.check_pass !== "boolean") {
    print({ status, verdict: null, error: "verdict missing: output.check_pass", request_id: requestId }, 3);
  }
  if (!output.check_pass) {
    const summary = { status, verdict: false, code: text(output.code), message: text(output.message) };
    print({ ...summary, request_id: requestId }, 1);
  }
  const boxes = {};
  for (const name of BOX_FIELDS) {
    if (!isBox(output[name])) {
      print({ status, verdict: true, error: `box missing or malformed: output.${name}`, request_id: requestId }, 3);
    }
    boxes[name] = output[name];
  }
  print({ status, verdict: true, boxes, request_id: requestId }, 0);
}

await main();
