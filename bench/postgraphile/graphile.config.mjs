// PostGraphile v5 configuration of the issue 9 peer: serves schema `peer` of
// the benchmark database (see schema.sql) read-only, with production settings.
//
// Environment: DATABASE_URL (required), PORT (default 5678), HOST (default
// 127.0.0.1), PG_POOL_MAX: connections per process (default 20, the app's
// DB_MAX_OPEN_CONNS default, divided among the WORKERS processes of
// server.mjs, rounded up).
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

const connectionString = process.env.DATABASE_URL;
if (!connectionString) {
  throw new Error("DATABASE_URL is not set");
}
const workers = Math.max(1, Number.parseInt(process.env.WORKERS ?? "1", 10) || 1);
const poolMax = Number.parseInt(process.env.PG_POOL_MAX ?? String(Math.ceil(20 / workers)), 10);

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [
    // The recommended base preset of v5.
    PostGraphileAmberPreset,
    // Relation names without the ByFooId suffixes (customer, country, ...).
    PgSimplifyInflectionPreset,
    // The official filter plugin (v5 line, 4.x): `filter: {status: {in: [...]}}`,
    // the equivalent of the app's `where: {statusIn: [...]}`.
    PostGraphileConnectionFilterPreset,
  ],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ["peer"],
      poolConfig: { max: poolMax },
    }),
  ],
  schema: {
    // Read-only peer: no mutations (they would not run in the benchmark anyway).
    defaultBehavior: "-insert -update -delete",
    // Only the cheap filter operators; no filtering through computed columns,
    // setof functions or arrays.
    connectionFilterAllowedOperators: ["equalTo", "in"],
    connectionFilterComputedColumns: false,
    connectionFilterSetofFunctions: false,
    connectionFilterArrays: false,
  },
  grafast: {
    // Never put plans/SQL into the responses.
    explain: false,
  },
  grafserv: {
    host: process.env.HOST ?? "127.0.0.1",
    port: Number.parseInt(process.env.PORT ?? "5678", 10),
    graphqlPath: "/graphql",
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    graphqlOverGET: false,
    watch: false,
    websockets: false,
    // Grafast's string optimisation: parts of the payload are stringified
    // while executing rather than after.
    outputDataAsString: true,
  },
};

export default preset;
