// Shared helpers of the deployment checks: a recorder that prints one line per check and sets
// the exit code, and lookups of the programs and npm packages the checks use.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// ctest reports a test that exits with this code as skipped (SKIP_RETURN_CODE).
export const kSkipExitCode = 77;

export const deployTestDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(deployTestDir, "..", "..");

// Records named checks and prints `ok` or `FAILED` for each, so one run reports every failure.
export class Checker {
  constructor(title) {
    this.title = title;
    this.failures = 0;
    this.count = 0;
  }

  check(name, passed, detail = "") {
    this.count += 1;
    if (passed) {
      console.log(`ok      ${name}`);
      return true;
    }
    this.failures += 1;
    console.log(`FAILED  ${name}${detail ? `: ${detail}` : ""}`);
    return false;
  }

  // Prints the summary and ends the process: exit 1 when any check failed.
  finish() {
    const passed = this.count - this.failures;
    console.log(`${this.title}: ${passed} passed, ${this.failures} failed`);
    process.exit(this.failures === 0 ? 0 : 1);
  }
}

export function skip(reason) {
  console.log(`SKIPPED: ${reason}`);
  process.exit(kSkipExitCode);
}

export function fail(reason) {
  console.error(`error: ${reason}`);
  process.exit(1);
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Returns the full path of `name` on PATH, or null.
export function findOnPath(name) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) {
      return join(dir, name);
    }
  }
  return null;
}

// Returns the kubectl that renders kustomizations: $KUBECTL, then the pinned kubectl 1.32 that
// scripts/install-deps.sh unpacks from npm, then kubectl on PATH. Null when none exists.
export function findKubectl() {
  const candidates = [
    process.env.KUBECTL,
    join(deployTestDir, "node_modules", ".kubectl", "kubectl"),
    findOnPath("kubectl"),
  ];
  return candidates.find((path) => path && isExecutable(path)) ?? null;
}

// Runs a program to completion and returns { status, stdout, stderr }. A program that cannot
// start has status null and its error in stderr.
export function run(program, args, options = {}) {
  const result = spawnSync(program, args, {
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
  const stderr = result.error ? String(result.error) : result.stderr;
  return { status: result.status, stdout: result.stdout ?? "", stderr };
}

// Imports an npm package of tests/deploy, or ends the run with the command that installs it.
export async function importPackage(specifier) {
  try {
    return await import(specifier);
  } catch (error) {
    if (error.code === "ERR_MODULE_NOT_FOUND") {
      fail(`npm package '${specifier}' is not installed in ${deployTestDir}; run scripts/install-deps.sh`);
    }
    throw error;
  }
}
