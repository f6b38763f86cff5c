// Checks docker-compose.yml: `docker-compose config` must accept it, and the resolved file must
// start the backend on port 8000 only after healthy Redis and PostgreSQL services.
//
//   node check_compose.mjs
//
// Exits 77 (skipped) when neither docker-compose nor the `docker compose` plugin exists;
// scripts/install-deps.sh installs Debian's docker-compose.
import { join } from "node:path";

import { Checker, fail, findOnPath, importPackage, repoRoot, run, skip } from "./checks.mjs";

const composeFile = join(repoRoot, "docker-compose.yml");

// Returns [program, leading args] of a Compose implementation that works, or null.
function findCompose() {
  const standalone = findOnPath("docker-compose");
  if (standalone) {
    return [standalone, []];
  }
  const docker = findOnPath("docker");
  if (docker && run(docker, ["compose", "version"]).status === 0) {
    return [docker, ["compose"]];
  }
  return null;
}

const compose = findCompose();
if (!compose) {
  skip("neither docker-compose nor `docker compose` is installed: run scripts/install-deps.sh");
}
const [program, leadingArgs] = compose;

const { parse } = await importPackage("yaml");
const checker = new Checker("docker-compose.yml");

// The `load` service belongs to a profile; naming the profile makes `config` resolve it too.
const resolved = run(program, [...leadingArgs, "--file", composeFile, "--profile", "load", "config"],
                     { cwd: repoRoot });
if (resolved.status !== 0) {
  fail(`'${program} ${[...leadingArgs, "config"].join(" ")}' rejected ${composeFile} ` +
       `(exit ${resolved.status}):\n${resolved.stderr}`);
}
checker.check("docker-compose config accepts the file", true);
const services = parse(resolved.stdout)?.services ?? {};

for (const name of ["backend", "redis", "postgres"]) {
  checker.check(`service ${name} exists`, Boolean(services[name]));
  const test = services[name]?.healthcheck?.test;
  checker.check(`service ${name} has a health check`,
                Array.isArray(test) ? test.length > 1 && test[0] !== "NONE" : Boolean(test),
                JSON.stringify(test ?? null));
}

const backend = services.backend ?? {};
// `config` prints ports in long form (objects) or short form (strings), by version.
const publishedPorts = (backend.ports ?? []).map((port) =>
  typeof port === "string" ? port : `${port.published}:${port.target}`);
checker.check("backend publishes port 8000",
              publishedPorts.some((port) => /(^|:)8000:8000(\/tcp)?$/.test(port)),
              JSON.stringify(backend.ports ?? null));
for (const dependency of ["redis", "postgres"]) {
  checker.check(`backend waits for a healthy ${dependency}`,
                backend.depends_on?.[dependency]?.condition === "service_healthy",
                JSON.stringify(backend.depends_on ?? null));
}
const environment = backend.environment ?? {};
// Both may be empty: then the backend uses its in-process queue and no trade sink.
if (environment.REDIS_URL) {
  checker.check("backend REDIS_URL points at the redis service",
                /^redis:\/\/redis:6379(\/|$)/.test(environment.REDIS_URL), environment.REDIS_URL);
}
if (environment.DATABASE_URL) {
  checker.check("backend DATABASE_URL points at the postgres service",
                /@postgres:5432\//.test(environment.DATABASE_URL));
}
checker.check("backend keeps its journal on a volume",
              (backend.volumes ?? []).some((volume) =>
                (typeof volume === "string" ? volume : volume.target ?? "")
                  .includes(environment.DATA_DIR ?? "DATA_DIR is not set")));

const redisCommand = [services.redis?.command ?? []].flat().join(" ");
checker.check("Redis never evicts keys", /--maxmemory-policy noeviction\b/.test(redisCommand), redisCommand);
checker.check("Redis keeps an append-only file", /--appendonly yes\b/.test(redisCommand), redisCommand);
checker.check("PostgreSQL runs version 15", /^postgres:15([.-]|$)/.test(services.postgres?.image ?? ""),
              services.postgres?.image);

const load = services.load ?? {};
const loadCommand = [load.command ?? []].flat().map(String);
checker.check("load service runs 20 clients",
              loadCommand[0] === "run" && loadCommand[loadCommand.indexOf("--clients") + 1] === "20",
              JSON.stringify(loadCommand));
checker.check("load service targets the backend service",
              loadCommand[loadCommand.indexOf("--api-url") + 1] === "http://backend:8000");
checker.check("load service waits for a healthy backend",
              load.depends_on?.backend?.condition === "service_healthy");

checker.finish();
