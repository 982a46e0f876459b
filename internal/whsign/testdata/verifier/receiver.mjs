// A webhook receiver for shipmentapp's deliveries, with the standardwebhooks
// npm package and node:http only: the JavaScript example of
// docs/WEBHOOKS-VERIFY.md, run by TestStandardWebhooksNPM.
//
//   WEBHOOK_SECRET=whsec_... PORT=8080 node receiver.mjs
//
// It prints "listening on <port>" once ready (PORT=0 picks a free port).
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

const wh = new Webhook(process.env.WEBHOOK_SECRET); // "whsec_..." from shipmentapp
const MAX_BODY = 1 << 20; // deliveries are small; refuse anything over 1 MiB
const seen = new Map(); // webhook-id -> time seen; use your database in production

createServer((req, res) => {
  if (req.method !== "POST") {
    res.writeHead(405).end();
    return;
  }
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      res.writeHead(413).end();
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (res.writableEnded) return;
    // Verify the raw bytes: a body parsed and re-serialised no longer matches.
    const body = Buffer.concat(chunks);
    let event;
    try {
      // Checks the timestamp (5 minutes either way) and every v1 signature.
      event = wh.verify(body, req.headers);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const id = req.headers["webhook-id"];
    if (seen.has(id)) {
      res.writeHead(204).end(); // a retry of a delivery already handled
      return;
    }
    seen.set(id, Date.now());
    // Answer at once; do the work elsewhere (here: just log it).
    res.writeHead(204).end();
    setImmediate(() => console.log(`event ${id} ${event?.type ?? ""}`));
  });
}).listen(Number(process.env.PORT ?? 8080), function () {
  console.log(`listening on ${this.address().port}`);
});
