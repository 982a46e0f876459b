// The standardwebhooks npm package as an oracle for internal/whsign.
//
//   node verify.mjs          reads JSON lines {secret, headers, body} and
//                            prints {"ok":true} or {"ok":false,"error":"..."}
//                            per line: new Webhook(secret).verify(body, headers).
//   node verify.mjs sign     reads JSON lines {secret, id, timestamp, body}
//                            (timestamp in Unix seconds) and prints
//                            {"signature":"v1,..."} per line.
//
// Bodies are strings (the tests send JSON text, which verify also parses).
import { createInterface } from "node:readline";
import { Webhook } from "standardwebhooks";

const mode = process.argv[2] ?? "verify";
if (mode !== "verify" && mode !== "sign") {
  console.error(`unknown mode ${mode}: want verify or sign`);
  process.exit(2);
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === "") continue;
  let out;
  try {
    const req = JSON.parse(line);
    const wh = new Webhook(req.secret);
    if (mode === "sign") {
      out = { signature: wh.sign(req.id, new Date(req.timestamp * 1000), req.body) };
    } else {
      wh.verify(req.body, req.headers);
      out = { ok: true };
    }
  } catch (err) {
    out = { ok: false, error: String(err?.message ?? err) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
