// Serves the PostGraphile v5 peer at http://$HOST:$PORT/graphql (see
// graphile.config.mjs); run it through start.sh.
//
// WORKERS (default 1): Node runs JavaScript on one core; WORKERS=N forks N
// processes (node:cluster) sharing the port, each with its own schema and a
// pool of ceil(20/N) connections (PG_POOL_MAX overrides), like PostGraphile's
// documented cluster mode.
import cluster from "node:cluster";
import { createServer } from "node:http";

const workers = Math.max(1, Number.parseInt(process.env.WORKERS ?? "1", 10) || 1);

if (workers > 1 && cluster.isPrimary) {
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (worker, code, signal) => {
    if (!stopping) {
      console.error(`worker ${worker.process.pid} died (${signal ?? code}); stopping`);
      stopping = true;
      for (const w of Object.values(cluster.workers)) w.kill("SIGTERM");
      process.exitCode = 1;
    }
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers)) w.kill("SIGTERM");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} else {
  await serve();
}

async function serve() {
  const { postgraphile } = await import("postgraphile");
  const { grafserv } = await import("postgraphile/grafserv/node");
  const { default: preset } = await import("./graphile.config.mjs");

  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  server.keepAliveTimeout = 65_000;
  server.on("error", (err) => {
    console.error(err);
    process.exit(1);
  });

  await serv.addTo(server);
  // Build the schema before taking requests, so that the first request of a
  // benchmark does not pay for introspection.
  await pgl.getSchemaResult();

  const { host, port } = preset.grafserv;
  server.listen(port, host, () => {
    console.log(`postgraphile peer (pid ${process.pid}) listening on http://${host}:${port}/graphql`);
  });

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping (pid ${process.pid})`);
    server.close();
    server.closeAllConnections?.();
    await pgl.release();
    process.exit(0);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}
